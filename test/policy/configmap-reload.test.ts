import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { WASM_PATH, deepMerge, memoryLogger, policyMetrics, shippedData } from './support.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const reloads = async (m: ReturnType<typeof policyMetrics>, result: string): Promise<number> =>
  (await m.policyReloads.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

/** A timestamped directory with both files, as the kubelet writes a ConfigMap version. */
function version(mount: string, stamp: string, data: unknown): string {
  const name = `..${stamp}`;
  mkdirSync(join(mount, name));
  copyFileSync(WASM_PATH, join(mount, name, 'policy.wasm'));
  writeFileSync(join(mount, name, 'data.json'), JSON.stringify(data));
  return name;
}

describe('policy hot reload from a Kubernetes ConfigMap volume', () => {
  it("picks up the kubelet's atomic ..data symlink swap, and does not reload for unrelated events", async () => {
    // The kubelet's AtomicWriter layout: the files are symlinks into ..data, which points at a
    // timestamped directory; an update writes a new directory, points ..data_tmp at it, renames
    // ..data_tmp over ..data, and removes the old directory. No event ever names policy.wasm.
    const mount = mkdtempSync(join(tmpdir(), 'rewind-configmap-'));
    dirs.push(mount);
    const v1 = version(mount, '2026_11_26_10_00_00.000000001', shippedData());
    symlinkSync(v1, join(mount, '..data'));
    symlinkSync(join('..data', 'policy.wasm'), join(mount, 'policy.wasm'));
    symlinkSync(join('..data', 'data.json'), join(mount, 'data.json'));

    const metrics = policyMetrics();
    const engine = await createPolicyEngine({
      wasmPath: join(mount, 'policy.wasm'),
      dataPath: join(mount, 'data.json'),
      logger: memoryLogger(),
      metrics,
      watch: true,
      debounceMs: 30,
    });
    try {
      const before = engine.loaded().dataSha256;
      const v2 = version(
        mount,
        '2026_11_26_10_05_00.000000002',
        deepMerge(shippedData(), { rewind: { maxRollbacksPerHour: 7 } }),
      );
      symlinkSync(v2, join(mount, '..data_tmp'));
      renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
      rmSync(join(mount, v1), { recursive: true });

      await eventually(
        () => (engine.data() as { rewind: { maxRollbacksPerHour: number } }).rewind.maxRollbacksPerHour === 7,
        'the new ConfigMap version to load',
      );
      assert.notEqual(engine.loaded().dataSha256, before);
      assert.equal(await reloads(metrics, 'success'), 2);

      // an event in the directory that changes neither file (the kubelet also touches other
      // entries) is not a reload: same content, same policy
      writeFileSync(join(mount, 'unrelated.txt'), 'x');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await reloads(metrics, 'success'), 2);
    } finally {
      await engine.close();
    }
  });
});

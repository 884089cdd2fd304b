import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RewindError } from '../../src/core/errors.ts';
import {
  ROLLED_BACK_FROM_TRAILER,
  analyzeHistory,
  parseTrailers,
  type RevisionVersion,
} from '../../src/core/rollback.ts';
import type { FileCommit, ImageVersion } from '../../src/core/types.ts';
import { parseVersion } from '../../src/core/version.ts';

/** A file pinning `app` (and a sidecar), or null: the file does not exist at that commit. */
interface Rev {
  app?: string;
  sidecar?: string;
  message?: string;
  deleted?: boolean;
  /** a revision that does not parse (a broken commit, fixed later) */
  broken?: boolean;
}

const content = (r: Rev): string | null =>
  r.deleted
    ? null
    : r.broken
      ? 'BROKEN\n'
      : `${r.app === undefined ? '' : `app=${r.app}\n`}sidecar=${r.sidecar ?? 's1'}\n`;

const versionOf = (text: string): RevisionVersion => {
  if (text === 'BROKEN\n') return 'unreadable';
  const m = /^app=(.+)$/m.exec(text);
  return m?.[1] === undefined ? null : parseVersion(m[1]);
};

const rollbackMsg = (from: string, to: string): string =>
  `fix(prod): roll back app to ${to}\n\n- From: app:${from}\n\nRewind-Remediation: r-${to}\n${ROLLED_BACK_FROM_TRAILER}: ${from}`;

/** Newest first; shas c0 (newest), c1, …; records how far it was read and whether it was closed. */
function history(revs: Rev[]): AsyncIterable<FileCommit> & { yielded: number; closed: boolean } {
  const state = {
    yielded: 0,
    closed: false,
    async *[Symbol.asyncIterator](): AsyncGenerator<FileCommit> {
      try {
        for (const [i, r] of revs.entries()) {
          state.yielded += 1;
          yield {
            sha: `c${i}`,
            message: r.message ?? `change ${i}`,
            committedAt: `2026-11-${String(26 - i).padStart(2, '0')}T10:00:00Z`,
            content: content(r),
          };
        }
      } finally {
        state.closed = true;
      }
    },
  };
  return state;
}

const tag = (t: string): ImageVersion => ({ tag: t });

describe('analyzeHistory', () => {
  it('passes over a revision that does not parse: it is neither current nor a candidate', async () => {
    const h = history([
      { app: 'v1.2.0' },
      { broken: true },
      { app: 'v1.2.0' },
      { broken: true },
      { app: 'v1.1.0' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v1.2.0'));
    assert.equal(a.current.commit, 'c2', 'the release commit is the oldest readable one of the run');
    assert.deepEqual(a.candidate, { to: tag('v1.1.0'), toCommit: 'c4' });
    assert.equal(a.commitsRead, 5);
  });

  it('file created in the newest commit: no candidate', async () => {
    const h = history([{ app: 'v1' }]);
    const a = await analyzeHistory(h, versionOf, tag('v1'), { image: 'registry/app' });
    assert.equal(a.candidate, null);
    assert.deepEqual(a.current, {
      version: tag('v1'),
      commit: 'c0',
      committedAt: '2026-11-26T10:00:00Z',
      isRollback: false,
    });
    assert.equal(a.reason, "no earlier version of registry/app in the file's history");
    assert.equal(a.commitsRead, 1);
  });

  it('only one tag ever: the current release is the oldest commit, no candidate', async () => {
    const a = await analyzeHistory(
      history([{ app: 'v1', sidecar: 's3' }, { app: 'v1', sidecar: 's2' }, { app: 'v1' }]),
      versionOf,
      tag('v1'),
    );
    assert.equal(a.current.commit, 'c2');
    assert.equal(a.candidate, null);
    assert.match(a.reason ?? '', /no earlier version/);
  });

  it("takes the previous tag, reading to the start of the image's history for trailers", async () => {
    const h = history([
      { app: 'v2' },
      { app: 'v1' },
      { app: 'v0' },
      { app: 'v-1' },
      { deleted: true },
      { app: 'v-9' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v2'));
    assert.deepEqual(a.candidate, { to: tag('v1'), toCommit: 'c1' });
    assert.equal(a.current.commit, 'c0');
    assert.equal(a.commitsRead, 5, 'up to the revision without the image, not beyond');
    assert.equal(h.closed, true, 'the iterator was returned, so no further pages are fetched');
  });

  it("another image's change in the same file is not a new version", async () => {
    const a = await analyzeHistory(
      history([
        { app: 'v2', sidecar: 's9' },
        { app: 'v2', sidecar: 's8' },
        { app: 'v1', sidecar: 's8' },
      ]),
      versionOf,
      tag('v2'),
    );
    assert.equal(a.current.commit, 'c1', 'v2 came in with c1, not with the sidecar bump in c0');
    assert.deepEqual(a.candidate, { to: tag('v1'), toCommit: 'c2' });
  });

  it('current introduced by a rollback: isRollback, and the rolled-back-from tag is skipped', async () => {
    const h = history([
      { app: 'v1.1.0', message: rollbackMsg('v1.2.0', 'v1.1.0') },
      { app: 'v1.2.0' },
      { app: 'v1.1.0' },
      { app: 'v1.0.0' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v1.1.0'));
    assert.equal(a.current.isRollback, true);
    assert.equal(a.current.commit, 'c0');
    assert.deepEqual(a.candidate, { to: tag('v1.0.0'), toCommit: 'c3' });
  });

  it('a tag that reappears after a rollback is current again; the version before it is the candidate', async () => {
    const h = history([
      { app: 'v1.2.0' },
      { app: 'v1.1.0', message: rollbackMsg('v1.2.0', 'v1.1.0') },
      { app: 'v1.2.0' },
      { app: 'v1.1.0' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v1.2.0'));
    assert.equal(a.current.isRollback, false);
    assert.equal(a.current.commit, 'c0');
    assert.deepEqual(a.candidate, { to: tag('v1.1.0'), toCommit: 'c1' }, 'the newest commit pinning v1.1.0');
  });

  it('skips every tag rewind rolled back from, wherever the trailer is', async () => {
    const h = history([
      { app: 'v1.4.0' },
      { app: 'v1.2.0', message: rollbackMsg('v1.3.0', 'v1.2.0') },
      { app: 'v1.3.0' },
      { app: 'v1.2.0' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v1.4.0'));
    assert.deepEqual(a.candidate, { to: tag('v1.2.0'), toCommit: 'c1' });

    const h2 = history([
      { app: 'v1.5.0' },
      { app: 'v1.3.0' },
      { app: 'v1.2.0', message: rollbackMsg('v1.3.0', 'v1.2.0') },
      { app: 'v1.3.0' },
      { app: 'v1.1.0' },
    ]);
    const a2 = await analyzeHistory(h2, versionOf, tag('v1.5.0'));
    // v1.3.0 was re-released by hand (c1) after rewind rolled back from it (c2): the trailer is older
    // than the re-release, and it still condemns v1.3.0 ("never rolled back from").
    assert.deepEqual(a2.candidate, { to: tag('v1.2.0'), toCommit: 'c2' });
  });

  it('no candidate when every earlier version was rolled back from', async () => {
    const h = history([
      { app: 'v1.0.0', message: rollbackMsg('v1.1.0', 'v1.0.0') },
      { app: 'v1.1.0', message: rollbackMsg('v1.2.0', 'v1.1.0') },
      { app: 'v1.2.0' },
      { app: 'v1.1.0' },
      { app: 'v1.0.0' },
    ]);
    const a = await analyzeHistory(h, versionOf, tag('v1.0.0'), { image: 'app' });
    assert.equal(a.candidate, null);
    assert.equal(a.reason, 'every earlier version of app was rolled back from: v1.1.0, v1.2.0');
    assert.equal(a.commitsRead, 5);
  });

  it('digest-only versions, and tag@digest compared on both parts', async () => {
    const d1 = `sha256:${'1'.repeat(64)}`;
    const d2 = `sha256:${'2'.repeat(64)}`;
    const d3 = `sha256:${'3'.repeat(64)}`;
    const h = history([{ app: d3, message: rollbackMsg(d2, d3) }, { app: d2 }, { app: d3 }, { app: d1 }]);
    const a = await analyzeHistory(h, versionOf, { digest: d3 });
    assert.equal(a.current.isRollback, true);
    assert.deepEqual(a.candidate, { to: { digest: d1 }, toCommit: 'c3' });

    const b = await analyzeHistory(history([{ app: `v1@${d2}` }, { app: `v1@${d1}` }]), versionOf, {
      tag: 'v1',
      digest: d2,
    });
    assert.deepEqual(
      b.candidate,
      { to: { tag: 'v1', digest: d1 }, toCommit: 'c1' },
      'same tag, new digest: a different version',
    );
  });

  it('stops at the commit where the image (or the file) is absent: the beginning of its history', async () => {
    const absent = await analyzeHistory(history([{ app: 'v2' }, {}, { app: 'v1' }]), versionOf, tag('v2'));
    assert.equal(absent.candidate, null);
    assert.equal(absent.commitsRead, 2);
    const deleted = await analyzeHistory(
      history([{ app: 'v2' }, { deleted: true }, { app: 'v1' }]),
      versionOf,
      tag('v2'),
    );
    assert.equal(deleted.candidate, null);
    assert.equal(deleted.current.commit, 'c0');
  });

  it('a revision that pins no version (Helm `tag: ""`, a bare image) is never the candidate', async () => {
    // "app=-" stands for a file that names the image but pins nothing, e.g. the `tag: ""` of `helm create`
    const unpinned = (text: string): RevisionVersion => (/^app=-$/m.test(text) ? {} : versionOf(text));
    const a = await analyzeHistory(history([{ app: 'v2' }, { app: '-' }]), unpinned, tag('v2'));
    assert.equal(a.candidate, null);
    assert.match(a.reason ?? '', /no earlier version/);
    const b = await analyzeHistory(
      history([{ app: 'v2' }, { app: '-' }, { app: 'v1' }]),
      unpinned,
      tag('v2'),
    );
    assert.deepEqual(b.candidate, { to: tag('v1'), toCommit: 'c2' });
  });

  it('a history that does not start at the current version is a retryable conflict (the file moved)', async () => {
    await assert.rejects(
      analyzeHistory(history([{ app: 'v3' }, { app: 'v2' }]), versionOf, tag('v2')),
      (e: unknown) => {
        assert.ok(e instanceof RewindError);
        assert.equal(e.code, 'github_conflict');
        assert.equal(e.retryable, true);
        return true;
      },
    );
    await assert.rejects(analyzeHistory(history([]), versionOf, tag('v2')), RewindError);
  });

  it('reads an endless history only up to maxCommits, and says so', async () => {
    let produced = 0;
    async function* endless(): AsyncGenerator<FileCommit> {
      for (;;) {
        produced += 1;
        yield {
          sha: `c${produced}`,
          message: produced === 70 ? rollbackMsg('v1', 'v0') : 'm',
          committedAt: 't',
          content: `app=${produced < 50 ? 'v2' : produced < 100 ? 'v1' : 'v0'}\n`,
        };
      }
    }
    const a = await analyzeHistory(endless(), versionOf, tag('v2'), { maxCommits: 120 });
    assert.equal(a.candidate?.toCommit, 'c100', 'v1 is condemned by the trailer at c70; v0 is next');
    assert.equal(a.truncated, true);
    assert.equal(a.commitsRead, 120);
    assert.ok(produced <= 121);
  });
});

describe('parseTrailers', () => {
  it('reads the last paragraph, canonicalizing keys', () => {
    const t = parseTrailers(
      'fix: x\n\nbody line\n\nRewind-Remediation: abc\nrewind-rolled-back-from: v1.2.0\nCo-authored-by: A <a@x>\n',
    );
    assert.deepEqual(t, {
      'Rewind-Remediation': ['abc'],
      'Rewind-Rolled-Back-From': ['v1.2.0'],
      'Co-Authored-By': ['A <a@x>'],
    });
  });

  it('repeated keys, CRLF and continuation lines', () => {
    const t = parseTrailers(
      'subject\r\n\r\nRewind-Rolled-Back-From: v1\r\nRewind-Rolled-Back-From: v2\r\nNote: a\r\n  b\r\n',
    );
    assert.deepEqual(t, { 'Rewind-Rolled-Back-From': ['v1', 'v2'], Note: ['a b'] });
  });

  it('a trailer paragraph anywhere after the subject counts (a squash commit made from a PR description)', () => {
    const t = parseTrailers(
      'fix: x (#4)\n\n| a | b |\n\n---\n\nRewind-Remediation: abc\nRewind-Rolled-Back-From: v1.2.0\n\nSigned-off text that is prose.\n',
    );
    assert.deepEqual(t['Rewind-Rolled-Back-From'], ['v1.2.0']);
    // a paragraph mixing prose and a trailer-like line is not a trailer block
    assert.deepEqual(parseTrailers('subject\n\n- Alert: x\nRewind-Rolled-Back-From: v1\n\nok'), {});
  });

  it('no trailers: subject only, or a last paragraph that is prose', () => {
    assert.deepEqual(parseTrailers('Rewind-Rolled-Back-From: v1'), {});
    assert.deepEqual(parseTrailers('subject\n\nThis rolls back: nothing.\nReally.'), {});
    assert.deepEqual(parseTrailers(''), {});
  });
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Target } from '../../src/core/types.ts';

const dir = fileURLToPath(new URL('../fixtures/alertmanager/', import.meta.url));

/** Real Alertmanager 0.25 bodies, copied from shared/alertmanager. */
export const SAMPLE_PAYLOADS = [
  'a-firing-single.json',
  'b-group-3-services.json',
  'b2-group-partial-resolve.json',
  'c-resolved-single.json',
  'f-max-alerts-2-of-5.json',
] as const;

export function samplePayload(name: (typeof SAMPLE_PAYLOADS)[number]): string {
  return readFileSync(`${dir}${name}`, 'utf8');
}

export function sampleJson(
  name: (typeof SAMPLE_PAYLOADS)[number],
): { alerts: Array<Record<string, unknown>> } & Record<string, unknown> {
  return JSON.parse(samplePayload(name)) as { alerts: Array<Record<string, unknown>> };
}

/** Targets that the sample payloads select (service + env labels as Alertmanager sent them). */
export function sampleTarget(name: string, overrides: Partial<Target> = {}): Target {
  return {
    name,
    match: { service: 'checkout', env: 'test' },
    repo: 'acme/gitops',
    branch: 'main',
    path: 'apps/checkout/overlays/prod/kustomization.yaml',
    image: 'registry.example.com/acme/checkout',
    environment: 'prod',
    reviewers: [],
    ...overrides,
  };
}

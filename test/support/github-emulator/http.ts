/** The small HTTP vocabulary the emulator's route modules share. */
import { gitTime, type RepoModel, type Signature } from './git-model.ts';

export const DOCS_URL = 'https://docs.github.com/rest';

export interface EmulatorResponse {
  status: number;
  body?: unknown;
  /** sent as is (text/plain) instead of JSON */
  raw?: string;
  headers?: Record<string, string>;
}

/** Thrown by handlers; rendered the way GitHub renders errors. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** GitHub's 422 shape: "Validation Failed" with a list of errors. */
export function validationFailed(errors: Record<string, unknown>[]): HttpError {
  return new HttpError(422, 'Validation Failed', { errors });
}

export interface RequestContext {
  method: string;
  /** decoded path parameters captured by the route */
  params: string[];
  query: URLSearchParams;
  /** the Accept header, for media types such as application/vnd.github.raw */
  accept: string;
  body: unknown;
  /** http://127.0.0.1:PORT, for Link headers and urls in bodies */
  baseUrl: string;
  repo(owner: string, name: string): RepoModel;
  now(): Date;
  /** the login the token belongs to */
  login: string;
}

export interface Route {
  method: string;
  pattern: RegExp;
  handle(ctx: RequestContext): EmulatorResponse;
}

export function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

export function stringField(body: unknown, name: string): string | undefined {
  const v = field(body, name);
  return typeof v === 'string' ? v : undefined;
}

export function signatureField(body: unknown, name: string, now: Date): Signature | undefined {
  const v = field(body, name);
  const n = stringField(v, 'name');
  const e = stringField(v, 'email');
  if (n === undefined || e === undefined) return undefined;
  return { name: n, email: e, date: gitTime(stringField(v, 'date') ?? now) };
}

/** GitHub pagination: page/per_page (default 30, max 100) plus a Link header. */
export function paginate<T>(
  items: readonly T[],
  ctx: RequestContext,
  path: string,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Math.max(Number(ctx.query.get('per_page') ?? 30) || 30, 1), 100);
  const page = Math.max(Number(ctx.query.get('page') ?? 1) || 1, 1);
  const last = Math.max(Math.ceil(items.length / perPage), 1);
  const link = (p: number): string => {
    const q = new URLSearchParams(ctx.query);
    q.set('per_page', String(perPage));
    q.set('page', String(p));
    return `${ctx.baseUrl}${path}?${q.toString()}`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${link(1)}>; rel="first"`, `<${link(Math.min(page - 1, last))}>; rel="prev"`);
  if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: rels.length > 0 ? { link: rels.join(', ') } : {},
  };
}

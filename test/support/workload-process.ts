import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The compiled client script (dist/test/support/workload-client-main.js). */
export const CLIENT_MAIN = path.join(__dirname, 'workload-client-main.js');

/** The compiled Envoy-like SDS client (dist/test/support/sds-client-main.js). */
export const SDS_CLIENT_MAIN = path.join(__dirname, 'sds-client-main.js');

/** Spawning under another uid needs root (CI runs as root); elsewhere these tests are skipped. */
export const NOT_ROOT = process.getuid?.() === 0 ? false : 'needs root to run workload processes under other uids';

/** Bounds a hung child so a broken agent fails the test instead of stalling the run. */
const CHILD_TIMEOUT_MS = 20_000;

export interface WorkloadSvid {
  spiffeId: string;
  chainPem: string;
  keyPem: string;
  bundlePem: string;
  hint: string;
}

export interface WorkloadResult {
  code?: number;
  details?: string;
  svids?: WorkloadSvid[];
  bundles?: Record<string, string>;
  jwtSvids?: { spiffeId: string; svid: string; hint: string }[];
  /** Trust domain ID → JWKS document (JSON text). */
  jwtBundles?: Record<string, string>;
  validated?: { spiffeId: string; claims: Record<string, unknown> };
}

export interface WorkloadCall {
  rpc?: 'svid' | 'bundles' | 'jwt' | 'jwt-bundles' | 'validate';
  header?: boolean;
  /** The request message, for the unary JWT calls. */
  request?: object;
}

/** Runs a real workload process under `uid` (gid = uid) and returns what it got from the agent. */
export async function fetchAs(uid: number, socketPath: string, call: WorkloadCall = {}): Promise<WorkloadResult> {
  const args = [CLIENT_MAIN, socketPath, call.rpc ?? 'svid', call.header === false ? 'noheader' : 'header', JSON.stringify(call.request ?? {})];
  const { stdout } = await run(process.execPath, args, { uid, gid: uid, timeout: CHILD_TIMEOUT_MS });
  return JSON.parse(stdout) as WorkloadResult;
}

/** The first SVID a real process under `uid` was served; throws (with what it got) when none. */
export async function firstSvidAs(uid: number, socketPath: string): Promise<WorkloadSvid> {
  const result = await fetchAs(uid, socketPath);
  const svid = result.svids?.[0];
  if (!svid) throw new Error(`uid ${uid} got no SVID: ${JSON.stringify(result)}`);
  return svid;
}

export interface SdsResult {
  code?: number;
  details?: string;
  secrets?: { name: string; leafId: string | null }[];
}

/** Runs an SDS client process under `uid` asking for `names` on one stream. */
export async function sdsFetchAs(uid: number, socketPath: string, names: string[]): Promise<SdsResult> {
  const { stdout } = await run(process.execPath, [SDS_CLIENT_MAIN, socketPath, names.join(',')], { uid, gid: uid, timeout: CHILD_TIMEOUT_MS });
  return JSON.parse(stdout) as SdsResult;
}

/**
 * Fails with a clear message when `uid` cannot read the compiled clients, their node_modules or
 * the protos (a checkout under a 0700 home directory would otherwise fail with a stack trace).
 */
export async function assertReadableBy(uid: number, paths: string[]): Promise<void> {
  const script = `const fs=require('node:fs');const bad=JSON.parse(process.argv[1]).filter((p)=>{try{fs.accessSync(p,fs.constants.R_OK);return false}catch{return true}});if(bad.length){console.error(bad.join('\\n'));process.exit(1)}`;
  try {
    await run(process.execPath, ['-e', script, JSON.stringify(paths)], { uid, gid: uid, timeout: CHILD_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`uid ${uid} cannot read what the workload client needs (make these world-readable):\n${(error as { stderr?: string }).stderr ?? String(error)}`, { cause: error });
  }
}

/** What a client process under another uid must be able to read. */
export function clientDependencies(): string[] {
  const repo = path.join(__dirname, '..', '..', '..');
  return [
    CLIENT_MAIN,
    SDS_CLIENT_MAIN,
    path.join(__dirname, 'workload-client.js'),
    path.join(__dirname, 'envoy-protos.js'),
    path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps', 'envoy-api', 'envoy', 'service', 'secret', 'v3', 'sds.proto'),
    path.join(__dirname, 'pem.js'),
    path.join(repo, 'test', 'fixtures', 'e2e', 'workload.proto'),
    require.resolve('@grpc/grpc-js'),
    require.resolve('@grpc/proto-loader'),
  ];
}

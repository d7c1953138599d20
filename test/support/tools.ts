import { accessSync, appendFileSync, constants } from 'node:fs';
import path from 'node:path';
import { peerPath } from './peers';

/**
 * The system tools and real peers some tests drive, how to tell each is there, and how to install
 * it. A test that needs one declares it with `{ skip: needs('nginx') }`:
 * - present: the test runs;
 * - missing on a developer's machine: the test is skipped with a reason saying how to install
 *   it, and the skip is recorded for the one summary line `npm test` prints at the end
 *   (scripts/run-tests.mjs);
 * - missing with CI=true: a failure, never a skip (.ci/run installs every tool, so a missing one
 *   is a broken install step, not something to pass over).
 */
export type ToolName =
  | 'softhsm2'
  | 'nginx'
  | 'curl'
  | 'keytool'
  | 'openssl'
  | 'systemd-analyze'
  | 'kubectl'
  | 'envoy'
  | 'go-spiffe-peer'
  | 'spire-server'
  | 'spire-agent'
  | 'py-spiffe';

interface Tool {
  /** What is looked for, for the skip reason. */
  readonly where: () => string;
  readonly present: () => boolean;
  /** A Debian package (apt-get install), or the peers script. */
  readonly install: { readonly apt: string } | { readonly script: '.ci/install-peers' } | { readonly note: string };
}

/** Where the Debian packages put SoftHSM's PKCS#11 module (test/support/softhsm.ts loads it). */
const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
/** nginx is in /usr/sbin, which is not on every user's PATH. */
const NGINX = '/usr/sbin/nginx';

function accessible(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}
const executable = (file: string): boolean => accessible(file, constants.X_OK);
/** A shared library is loaded, not run: it need only be readable. */
const readable = (file: string): boolean => accessible(file, constants.R_OK);

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && executable(path.join(dir, command)));
}

const peer = (name: string): Tool => ({ where: () => peerPath(name), present: () => executable(peerPath(name)), install: { script: '.ci/install-peers' } });

export const TOOLS: Readonly<Record<ToolName, Tool>> = {
  softhsm2: { where: () => `softhsm2-util on PATH and ${SOFTHSM_MODULE}`, present: () => onPath('softhsm2-util') && readable(SOFTHSM_MODULE), install: { apt: 'softhsm2' } },
  nginx: { where: () => `${NGINX} or nginx on PATH`, present: () => executable(NGINX) || onPath('nginx'), install: { apt: 'nginx' } },
  curl: { where: () => 'curl on PATH', present: () => onPath('curl'), install: { apt: 'curl' } },
  keytool: { where: () => 'keytool on PATH', present: () => onPath('keytool'), install: { apt: 'default-jre-headless' } },
  openssl: { where: () => 'openssl on PATH', present: () => onPath('openssl'), install: { apt: 'openssl' } },
  'systemd-analyze': { where: () => 'systemd-analyze on PATH', present: () => onPath('systemd-analyze'), install: { apt: 'systemd' } },
  kubectl: { where: () => 'kubectl on PATH', present: () => onPath('kubectl'), install: { note: 'kubectl (not packaged by Debian): put its release binary on PATH' } },
  envoy: peer('envoy'),
  'go-spiffe-peer': peer('go-spiffe-peer'),
  'spire-server': peer('spire-server'),
  'spire-agent': peer('spire-agent'),
  // The venv's python (MESHID_PEERS_DIR/venv, beside bin/), with py-spiffe installed in it.
  'py-spiffe': {
    where: () => path.join(path.dirname(peerPath('')), 'venv', 'bin', 'python'),
    present: () => executable(path.join(path.dirname(peerPath('')), 'venv', 'bin', 'python')),
    install: { script: '.ci/install-peers' },
  },
};

/** How to install `tool`, as the skip reason says it. */
export function installHint(tool: ToolName): string {
  const { install } = TOOLS[tool];
  if ('apt' in install) return `apt-get install ${install.apt}`;
  if ('script' in install) return `bash ${install.script}`;
  return install.note;
}

/** How to install all of `tools` at once: one apt-get line, the peers script, then any note. */
export function installCommand(tools: readonly ToolName[]): string {
  const installs = tools.map((tool) => TOOLS[tool].install);
  const packages = [...new Set(installs.flatMap((install) => ('apt' in install ? [install.apt] : [])))];
  const commands = [
    ...(packages.length > 0 ? [`apt-get install -y ${packages.join(' ')}`] : []),
    ...(installs.some((install) => 'script' in install) ? ['bash .ci/install-peers'] : []),
  ];
  const notes = [...new Set(installs.flatMap((install) => ('note' in install ? [install.note] : [])))];
  return [commands.join(' && '), ...notes].filter((part) => part !== '').join('; ');
}

/** One record per skip, as needs() appends them to the run's file. */
export interface SkipRecord {
  readonly test: string;
  readonly missing: readonly ToolName[];
}

/** The one line `npm test` ends with (scripts/run-tests.mjs prints it). */
export function skipSummary(skips: readonly SkipRecord[], ci: boolean): string {
  if (skips.length === 0) {
    return ci ? 'meshid tests: CI=true, so a missing tool fails its test; no test was skipped for one.' : 'meshid tests: no test was skipped for a missing tool.';
  }
  const missing = [...new Set(skips.flatMap((skip) => skip.missing))].sort();
  const files = new Set(skips.map((skip) => skip.test)).size;
  return `meshid tests: tests in ${files} file(s) were SKIPPED for missing tools: ${missing.join(', ')}. Install them with: ${installCommand(missing)} (or run bash .ci/run, which installs everything and sets CI=true).`;
}

/** Set by scripts/run-tests.mjs: the file the test processes of one run record their skips in. */
export const SKIPS_FILE_ENV = 'MESHID_TEST_SKIPS_FILE';

/**
 * For a test's or suite's `skip` option: false when every tool is present. Otherwise, under
 * CI=true, throws (the test file fails, naming the tools); else returns the skip reason and
 * records the skip for the run's summary line.
 */
export function needs(...tools: ToolName[]): string | false {
  const missing = tools.filter((tool) => !TOOLS[tool].present());
  if (missing.length === 0) return false;
  const described = missing.map((tool) => `${tool} (${TOOLS[tool].where()}; ${installHint(tool)})`).join(', ');
  if (process.env.CI === 'true') {
    throw new Error(`CI=true and a tool this test needs is missing, which is a failure, not a skip: ${described}. .ci/run installs them all.`);
  }
  const file = process.env[SKIPS_FILE_ENV];
  const test = path.relative(process.cwd(), process.argv[1] ?? '');
  if (file) appendFileSync(file, `${JSON.stringify({ test, missing })}\n`);
  return `missing ${described}`;
}

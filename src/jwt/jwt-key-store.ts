import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic-file';
import { MeshidError } from '../common/errors';
import { faultPoint } from '../common/fault-point';
import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtKeyPair } from './jwt-algorithm';
import type { JwtKeyTimes } from './jwt-key-schedule';

/** A signing key as kept across restarts: the pair, its schedule, and the longest token lifetime it signed with. */
export interface StoredJwtKey {
  readonly pair: JwtKeyPair;
  readonly times: JwtKeyTimes;
  /** The longest `jwt.ttl` of any agent that signed with it: tokens it signed expire within this of the moment it stopped. */
  readonly maxJwtTtlMs: number;
}

/** Where JwtAuthority keeps its keys; `save` replaces the whole set atomically. */
export interface JwtKeyStore {
  load(): Promise<StoredJwtKey[]>;
  save(keys: readonly StoredJwtKey[]): Promise<void>;
}

export const JWT_KEYS_FILE = 'jwt-keys.json';

interface FileFormat {
  readonly version: 1;
  readonly keys: readonly {
    readonly algorithm: JwtAlgorithm;
    readonly privateKeyPem: string;
    readonly times: JwtKeyTimes;
    readonly maxJwtTtlMs: number;
  }[];
}

const fail = (reason: string): MeshidError => new MeshidError('INVALID_CONFIG', `jwt: ${reason}`);

/**
 * The JWT signing keys in dataDir/jwt-keys.json: one file, mode 0600, replaced atomically
 * (src/common/atomic-file.ts) so a kill at any moment leaves the previous set or the next one.
 * A key is saved before it is published or signs, so every token the agent handed out was signed
 * by a key a restart loads again.
 */
export class JwtKeyFile implements JwtKeyStore {
  private readonly file: string;

  constructor(
    private readonly dataDir: string,
    /** Mode for dataDir when it has to be created (0700, or 0711 when the socket is inside). */
    private readonly dataDirMode: number,
  ) {
    this.file = path.join(dataDir, JWT_KEYS_FILE);
  }

  async load(): Promise<StoredJwtKey[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw fail(`cannot read ${this.file}: ${(error as Error).message}`);
    }
    let parsed: FileFormat;
    try {
      parsed = parseKeyFile(text);
      if (parsed.version !== 1 || !Array.isArray(parsed.keys)) throw new Error('unknown format');
      return parsed.keys.map((key) => {
        if (!JWT_ALGORITHMS.includes(key.algorithm)) throw new Error(`unknown algorithm ${String(key.algorithm)}`);
        const privateKey = createPrivateKey({ key: key.privateKeyPem, format: 'pem' });
        const times = key.times;
        for (const name of ['publishedAtMs', 'signsFromMs', 'signsUntilMs', 'successorPublishAtMs', 'notAfterMs'] as const) {
          if (!Number.isFinite(times[name])) throw new Error(`a key without ${name}`);
        }
        return { pair: { algorithm: key.algorithm, privateKey, publicKey: createPublicKey(privateKey) }, times, maxJwtTtlMs: Number(key.maxJwtTtlMs) || 0 };
      });
    } catch (error) {
      // Only meshid writes it, atomically: an unreadable file is someone else's edit. Tokens it
      // vouched for would stop validating if it were silently replaced, so the operator decides.
      throw fail(`${this.file} is not a key file meshid wrote (${(error as Error).message}); remove it to start with new JWT signing keys (tokens signed before then stop validating)`);
    }
  }

  async save(keys: readonly StoredJwtKey[]): Promise<void> {
    const document: FileFormat = {
      version: 1,
      keys: keys.map((key) => ({
        algorithm: key.pair.algorithm,
        privateKeyPem: key.pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        times: key.times,
        maxJwtTtlMs: key.maxJwtTtlMs,
      })),
    };
    try {
      await mkdir(this.dataDir, { recursive: true, mode: this.dataDirMode });
      await writeFileAtomic(this.file, `${JSON.stringify(document)}\n`, 0o600);
    } catch (error) {
      throw fail(`cannot save the signing keys to ${this.file}: ${(error as Error).message}`);
    }
    faultPoint('jwt-keys:written');
  }
}

/**
 * V8's JSON.parse messages quote the text around the fault ("{"d":SECRETKEYM"... is not valid
 * JSON"), and this file holds private keys: the message is replaced, never passed on.
 */
function parseKeyFile(text: string): FileFormat {
  try {
    return JSON.parse(text) as FileFormat;
  } catch {
    throw new Error('not valid JSON');
  }
}

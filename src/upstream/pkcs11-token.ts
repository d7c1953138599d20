import os from 'node:os';
import * as pkcs11 from 'pkcs11js';
import { MeshidError } from '../common/errors';

/** Where the CA key lives in the HSM. `slot` is the PKCS#11 slot ID; exactly one of it and tokenLabel is set. */
export interface Pkcs11KeyLocation {
  readonly module: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly keyLabel: string;
  /** Only named in messages: the PIN itself is passed separately and never printed. */
  readonly pinFile: string;
}

export type Pkcs11KeyType = 'ec' | 'rsa';

export const pkcs11Failure = (reason: string, cause?: unknown): MeshidError =>
  new MeshidError('UPSTREAM', `upstream(pkcs11): ${reason}`, cause === undefined ? undefined : { cause });

/**
 * How many Pkcs11Keys of this process hold each module (by path) initialized. C_Initialize and
 * C_Finalize are process-wide, and C_Finalize ends every session of the module: during a root
 * rotation the successor's key opens while the old one is still open (and finds the module
 * already initialized), so the old key's close must not finalize under it. The last key to let
 * go finalizes.
 */
const initializationHolders = new Map<string, number>();

/** RSA-8192 signatures are 1024 bytes; ECDSA (P-521) at most 132. */
const SIGNATURE_BUFFER_BYTES = 1024;

interface Session {
  readonly handle: pkcs11.Handle;
  readonly key: pkcs11.Handle;
  readonly keyType: Pkcs11KeyType;
}

/**
 * A private key held in a PKCS#11 token, used through one logged-in session. Signs are queued
 * one at a time: a session runs a single operation, and C_SignInit/C_Sign of two signs must not
 * interleave. After a failed sign (HSM restarted, network HSM unreachable, token removed) the
 * session is presumed lost, and the next sign reconnects from scratch (C_Finalize, C_Initialize,
 * find the token, log in, find the key), which is what vendors prescribe after a lost device.
 *
 * pkcs11js is synchronous except for the crypto calls: C_Sign runs on the libuv thread pool
 * (C_SignAsync), but C_Initialize, C_Login and the object search block the event loop for as long
 * as the HSM takes. That is acceptable because the HSM only ever signs the node intermediate (at
 * start and once per half ca.ttl); every SVID is signed by the in-memory node intermediate, so the
 * HSM is never on the hot path.
 */
export class Pkcs11Key {
  private readonly module = new pkcs11.PKCS11();
  /**
   * Whether this key counts in initializationHolders: it initialized the module, or joined a
   * sibling key that did. False when something else in this process had initialized it: not ours to finalize.
   */
  private holdsInitialization = false;
  private session: Session | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly #pin: string;

  private constructor(
    private readonly location: Pkcs11KeyLocation,
    pin: string,
  ) {
    this.#pin = pin;
  }

  /** Loads the module and logs in; throws MeshidError('UPSTREAM') naming the item at fault. */
  static open(location: Pkcs11KeyLocation, pin: string): Pkcs11Key {
    const key = new Pkcs11Key(location, pin);
    try {
      key.module.load(location.module);
    } catch (error) {
      // dlerror() starts with the path, which the message already names.
      const reason = (error instanceof Error ? error.message : String(error)).replace(`${location.module}: `, '');
      throw pkcs11Failure(`module ${location.module} cannot be loaded as a PKCS#11 module: ${reason}`);
    }
    try {
      key.session = key.connect();
    } catch (error) {
      key.release();
      throw error;
    }
    return key;
  }

  /** `token "meshid"` or `the token in slot 7`, for messages. */
  get tokenName(): string {
    return this.location.tokenLabel !== undefined ? `token "${this.location.tokenLabel}"` : `the token in slot ${this.location.slot ?? ''}`;
  }

  get keyName(): string {
    return `key "${this.location.keyLabel}" in ${this.tokenName}`;
  }

  get keyType(): Pkcs11KeyType {
    if (!this.session) throw pkcs11Failure(`${this.tokenName} is not connected`);
    return this.session.keyType;
  }

  /** Signs `data` with `mechanism` (no parameters); the raw PKCS#11 output. */
  sign(mechanism: number, data: Buffer): Promise<Buffer> {
    const result = this.queue.then(() => this.signNow(mechanism, data));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Waits for a sign in progress, then logs out and finalizes the module. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.release();
  }

  private async signNow(mechanism: number, data: Buffer): Promise<Buffer> {
    if (this.closed) throw pkcs11Failure(`${this.keyName}: the HSM connection is closed`);
    if (!this.session) this.session = this.reconnect();
    const { handle, key } = this.session;
    try {
      this.module.C_SignInit(handle, { mechanism }, key);
      return await this.module.C_SignAsync(handle, data, Buffer.alloc(SIGNATURE_BUFFER_BYTES));
    } catch (error) {
      this.closeSession(handle);
      this.session = undefined;
      throw pkcs11Failure(`signing with ${this.keyName} failed (${returnValue(error)})`, error);
    }
  }

  private reconnect(): Session {
    // The device was lost: start afresh, which also ends a sibling key's sessions (it reconnects on its next sign).
    if (this.holdsInitialization) {
      try {
        this.module.C_Finalize();
      } catch {
        // Already gone with the device; C_Initialize below starts afresh either way.
      }
    }
    return this.connect();
  }

  private connect(): Session {
    const { module: path } = this.location;
    try {
      this.module.C_Initialize();
      this.holdInitialization();
    } catch (error) {
      if (returnValue(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw pkcs11Failure(`module ${path} failed to initialize (${returnValue(error)})`, error);
      // Initialized by another key of this process (a root rotation's old and new upstream): shared.
      if (initializationHolders.has(path)) this.holdInitialization();
    }
    const slot = this.findSlot();
    let handle: pkcs11.Handle;
    try {
      handle = this.module.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION);
    } catch (error) {
      throw pkcs11Failure(`cannot open a session with ${this.tokenName} (${returnValue(error)})`, error);
    }
    try {
      this.login(handle);
      const { key, keyType } = this.findKey(handle);
      return { handle, key, keyType };
    } catch (error) {
      this.closeSession(handle);
      throw error;
    }
  }

  private findSlot(): pkcs11.Handle {
    const { tokenLabel, slot: slotId, module: path } = this.location;
    let tokens: { slot: pkcs11.Handle; id: bigint; info: pkcs11.TokenInfo }[];
    try {
      tokens = this.module.C_GetSlotList(true).map((slot) => ({ slot, id: handleNumber(slot), info: this.module.C_GetTokenInfo(slot) }));
    } catch (error) {
      throw pkcs11Failure(`module ${path} cannot list its tokens (${returnValue(error)})`, error);
    }
    const describe = (): string => tokens.map(({ id, info }) => `slot ${id}: ${initialized(info) ? `"${label(info)}"` : 'uninitialized'}`).join(', ') || 'none';
    if (tokenLabel !== undefined) {
      const matches = tokens.filter(({ info }) => initialized(info) && label(info) === tokenLabel);
      const [only, second] = matches;
      if (!only) throw pkcs11Failure(`no token labelled "${tokenLabel}" in module ${path} (tokens present: ${describe()})`);
      if (second) throw pkcs11Failure(`${matches.length} tokens are labelled "${tokenLabel}" in module ${path}; choose one with slot (${describe()})`);
      return only.slot;
    }
    const match = tokens.find(({ id }) => id === BigInt(slotId ?? -1));
    if (!match) throw pkcs11Failure(`no token in slot ${slotId ?? ''} of module ${path} (tokens present: ${describe()})`);
    if (!initialized(match.info)) throw pkcs11Failure(`the token in slot ${slotId ?? ''} of module ${path} is not initialized`);
    return match.slot;
  }

  private login(handle: pkcs11.Handle): void {
    try {
      this.module.C_Login(handle, pkcs11.CKU_USER, this.#pin);
    } catch (error) {
      const code = returnValue(error);
      if (code === 'CKR_USER_ALREADY_LOGGED_IN') return; // another session of this process logged in
      const { pinFile } = this.location;
      // The PIN is never part of a message, only the file it came from.
      if (code === 'CKR_PIN_INCORRECT') throw pkcs11Failure(`${this.tokenName} rejected the PIN in pinFile ${pinFile} (CKR_PIN_INCORRECT)`);
      if (code === 'CKR_PIN_LOCKED') throw pkcs11Failure(`the user PIN of ${this.tokenName} is locked (CKR_PIN_LOCKED); the token's security officer must reset it`);
      if (code === 'CKR_PIN_LEN_RANGE') throw pkcs11Failure(`the PIN in pinFile ${pinFile} has a length ${this.tokenName} does not accept (CKR_PIN_LEN_RANGE)`);
      throw pkcs11Failure(`cannot log in to ${this.tokenName} with the PIN in pinFile ${pinFile} (${code})`, error);
    }
  }

  private findKey(handle: pkcs11.Handle): { key: pkcs11.Handle; keyType: Pkcs11KeyType } {
    const { keyLabel } = this.location;
    const keys = this.findPrivateKeys(handle, keyLabel);
    const [key, second] = keys;
    if (!key) {
      const present = this.findPrivateKeys(handle).map((other) => `"${this.label(handle, other)}"`);
      throw pkcs11Failure(`no private key labelled "${keyLabel}" in ${this.tokenName} (private keys present: ${present.join(', ') || 'none'})`);
    }
    if (second) throw pkcs11Failure(`${keys.length} private keys are labelled "${keyLabel}" in ${this.tokenName}; the label must name one key`);
    const [attribute] = this.module.C_GetAttributeValue(handle, key, [{ type: pkcs11.CKA_KEY_TYPE }]);
    const type = attribute?.value ? handleNumber(attribute.value) : undefined;
    if (type === BigInt(pkcs11.CKK_EC)) return { key, keyType: 'ec' };
    if (type === BigInt(pkcs11.CKK_RSA)) return { key, keyType: 'rsa' };
    throw pkcs11Failure(`${this.keyName} has PKCS#11 key type ${String(type)}; supported: EC (CKK_EC) and RSA (CKK_RSA)`);
  }

  private findPrivateKeys(handle: pkcs11.Handle, keyLabel?: string): pkcs11.Handle[] {
    const template: pkcs11.Template = [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }];
    if (keyLabel !== undefined) template.push({ type: pkcs11.CKA_LABEL, value: keyLabel });
    try {
      this.module.C_FindObjectsInit(handle, template);
      try {
        return this.module.C_FindObjects(handle, 64);
      } finally {
        this.module.C_FindObjectsFinal(handle);
      }
    } catch (error) {
      throw pkcs11Failure(`cannot search ${this.tokenName} for private keys (${returnValue(error)})`, error);
    }
  }

  private label(handle: pkcs11.Handle, object: pkcs11.Handle): string {
    try {
      return this.module.C_GetAttributeValue(handle, object, [{ type: pkcs11.CKA_LABEL }])[0]?.value.toString('utf8') ?? '';
    } catch {
      return '?';
    }
  }

  private closeSession(handle: pkcs11.Handle): void {
    try {
      this.module.C_CloseSession(handle);
    } catch {
      // Nothing left to release.
    }
  }

  private holdInitialization(): void {
    if (this.holdsInitialization) return;
    this.holdsInitialization = true;
    initializationHolders.set(this.location.module, (initializationHolders.get(this.location.module) ?? 0) + 1);
  }

  /** True when this key was the last holder: the module is to be finalized. */
  private letGoOfInitialization(): boolean {
    if (!this.holdsInitialization) return false;
    this.holdsInitialization = false;
    const left = (initializationHolders.get(this.location.module) ?? 1) - 1;
    if (left > 0) initializationHolders.set(this.location.module, left);
    else initializationHolders.delete(this.location.module);
    return left === 0;
  }

  /** Closing the last session logs out (PKCS#11 §5.6); finalizing releases the module's state. */
  private release(): void {
    if (this.session) this.closeSession(this.session.handle);
    this.session = undefined;
    try {
      if (this.letGoOfInitialization()) this.module.C_Finalize();
    } catch {
      // Not initialized (the load or C_Initialize failed), or already finalized.
    }
    try {
      this.module.close();
    } catch {
      // Not loaded.
    }
  }
}

/** The CKR_ name of a PKCS#11 return value, or the error's message for anything else. */
function returnValue(error: unknown): string {
  if (error instanceof Error) return /CKR_\w+/.exec(error.message)?.[0] ?? error.message;
  return String(error);
}

/** A CK_ULONG (slot ID, attribute value) as pkcs11js hands it over: host byte order. */
function handleNumber(handle: Buffer): bigint {
  const little = os.endianness() === 'LE';
  if (handle.length === 8) return little ? handle.readBigUInt64LE() : handle.readBigUInt64BE();
  if (handle.length === 4) return BigInt(little ? handle.readUInt32LE() : handle.readUInt32BE());
  return -1n;
}

/** Token labels are blank-padded to 32 bytes (PKCS#11 §3.2, CK_TOKEN_INFO). */
const label = (info: pkcs11.TokenInfo): string => info.label.replace(/[ \0]+$/, '');
const initialized = (info: pkcs11.TokenInfo): boolean => (info.flags & pkcs11.CKF_TOKEN_INITIALIZED) !== 0;

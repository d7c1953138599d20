/** One `files:` target: where an SVID, its key and bundle are written for software that reads PEM files. */
export interface FileTargetConfig {
  readonly spiffeId: string;
  readonly dnsNames: readonly string[];
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile?: string;
  /** Permission bits of keyFile (and pkcs12File), e.g. 0o600. */
  readonly keyMode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
  /** A PKCS#12 keystore of the same key and chain (Java), protected by the password in the file. */
  readonly pkcs12File?: string;
  readonly pkcs12PasswordFile?: string;
  /** A shell command run after every write (e.g. `nginx -s reload`). */
  readonly afterWrite?: string;
}

/**
 * jose v6 is ESM-only and this package compiles to CommonJS: it is loaded once with a real
 * dynamic import (tsc under module node16 keeps `import()` as is) and the promise is shared.
 */
export type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
export type { JWK, JWTPayload, JWSHeaderParameters } from 'jose' with { 'resolution-mode': 'import' };

let loading: Promise<Jose> | undefined;

export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}

import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestAgent } from '../support/agent-harness';
import { sdsClient } from '../support/envoy-protos';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { decodeOfficialSecret, SECRET_TYPE_URL } from '../sds/support/official-envoy';
import { assertNothingSentSotw, deltaRequest, deltaSecrets, MODERN_ENVOY, StreamJanitor } from '../sds/support/sds-streams';

const janitor = new StreamJanitor();
after(async () => {
  janitor.cleanAll();
  await removeTempDirs();
});

const entry = (id: string): string => `- spiffeId: spiffe://example.org/${id}\n  selectors: ["unix:uid:0"]\n`;
async function saveByRename(file: string, text: string): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

test('an entry withdrawn from the entries file: SotW streams for it end PERMISSION_DENIED, Delta lists it in removed_resources', async () => {
  const dir = await makeTempDir('meshid-sds-entries-');
  const file = path.join(dir, 'entries.yaml');
  await writeFile(file, entry('frontend') + entry('payments'));
  const harness = await startTestAgent({ entriesFile: file });
  const client = sdsClient(harness.socketPath);
  try {
    // Envoy's usual shape: one SotW stream per name.
    const frontend = janitor.sotw(client);
    frontend.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['spiffe://example.org/frontend'], node: MODERN_ENVOY });
    const payments = janitor.sotw(client);
    payments.stream.write({ type_url: SECRET_TYPE_URL, resource_names: ['spiffe://example.org/payments'], node: MODERN_ENVOY });
    assert.equal(decodeOfficialSecret((await payments.reader.next(30_000)).resources[0] ?? { type_url: '', value: Buffer.alloc(0) }).name, 'spiffe://example.org/payments');
    const frontendFirst = await frontend.reader.next(30_000);

    const delta = janitor.delta(client);
    delta.stream.write(deltaRequest({ subscribe: ['spiffe://example.org/payments', 'default'], node: MODERN_ENVOY }));
    const initial = await delta.reader.next(30_000);
    assert.deepEqual([...deltaSecrets(initial).keys()].sort(), ['default', 'spiffe://example.org/payments']);
    delta.stream.write(deltaRequest({ nonce: initial.nonce }));

    await saveByRename(file, entry('frontend'));

    await assert.rejects(payments.reader.next(30_000), (error: ServiceError) => {
      assert.equal(error.code, status.PERMISSION_DENIED);
      assert.match(error.details, /spiffe:\/\/example\.org\/payments/);
      return true;
    });
    const withdrawn = await delta.reader.next(30_000);
    assert.deepEqual(withdrawn.removed_resources, ['spiffe://example.org/payments']);
    // The identity still held is untouched: no message and no error on its stream. The change
    // reached every stream before the Delta answer above, so the marker's answer comes after anything it caused.
    await assertNothingSentSotw(frontend, ['spiffe://example.org/frontend', 'ROOTCA'], frontendFirst, 'the frontend stream is untouched by the withdrawal of payments');
  } finally {
    janitor.cleanAll();
    client.close();
    await harness.agent.stop();
  }
});

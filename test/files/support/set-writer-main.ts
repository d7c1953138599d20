/**
 * A writer process for the crash tests: writes set "A" into argv[2], then writes set "B" with
 * MESHID_FAULT_POINT=argv[3], which kills this process (SIGKILL) at that point of the write.
 */
import { writeAtomicSet, type SetFile } from '../../../src/files/atomic-dir-writer';
import { TargetDirectory } from '../../../src/files/target-directory';

const [dir, point] = process.argv.slice(2);
const set = (tag: string): SetFile[] => [
  { name: 'key.pem', data: `key ${tag}\n`, mode: 0o600 },
  { name: 'chain.pem', data: `chain ${tag}\n`, mode: 0o644 },
  { name: 'bundle.pem', data: `bundle ${tag}\n`, mode: 0o644 },
  { name: 'app.p12', data: `keystore ${tag}\n`, mode: 0o600 },
];

async function main(): Promise<void> {
  if (dir === undefined || point === undefined) throw new Error('usage: set-writer-main <dir> <fault point>');
  for (const [tag, fault] of [['A', ''], ['B', point]] as const) {
    process.env.MESHID_FAULT_POINT = fault;
    const target = await TargetDirectory.open(dir, new Set([0, process.getuid?.() ?? 0]));
    await writeAtomicSet(target, set(tag), { now: new Date() });
    await target.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

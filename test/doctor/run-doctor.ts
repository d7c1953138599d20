import { diagnose, type DoctorReport } from '../../src/cli/doctor/diagnose';
import { readDoctorInput } from '../../src/cli/doctor/doctor-input';

/** The doctor's whole file path in-process: read the files as the CLI does, then diagnose. */
export async function doctorOnFiles(files: { cert: string; key?: string; bundle?: string }, now = new Date()): Promise<DoctorReport> {
  return diagnose(await readDoctorInput({ ...files, now, timeoutMs: 10_000 }));
}

/** Finding ids, sorted, so a test states the complete expected set (no stray findings). */
export const findingIds = (report: DoctorReport): string[] => report.findings.map((finding) => finding.id).sort();

import type { OutputFormat } from '../cli-options';
import { UsageError } from '../usage-error';
import { UnreadableInput } from './certificate-files';
import { diagnose, type DoctorReport } from './diagnose';
import { readDoctorInput, type DoctorOptions } from './doctor-input';
import { renderText } from './report-text';

/** Reads what `options` point at, judges it and prints the report; resolves to the exit code. */
export async function reportDoctor(options: DoctorOptions, output: OutputFormat): Promise<number> {
  let report: DoctorReport;
  try {
    report = diagnose(await readDoctorInput(options));
  } catch (error) {
    if (error instanceof UnreadableInput) throw new UsageError(error.message);
    throw error;
  }
  console.log(output === 'json' ? JSON.stringify(report, null, 2) : renderText(report));
  return report.ok ? 0 : 1;
}

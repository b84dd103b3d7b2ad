import { writeReport } from '@imslab/report';

/**
 * Writes <run>/report.html and says where it is. The page is evidence, not the
 * verdict: a run whose report cannot be drawn keeps its exit code, and the
 * reason is printed instead of the path.
 */
export async function reportLine(dir: string): Promise<string> {
  try {
    const { file, ms } = await writeReport(dir);
    return `report: ${file} (${Math.round(ms)} ms)`;
  } catch (e) {
    return `report: not written: ${(e as Error).message}`;
  }
}

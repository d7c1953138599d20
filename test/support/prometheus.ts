/** A series' value from Prometheus text, e.g. metricValue(text, 'meshid_open_streams{api="sds_sotw"}'). */
export function metricValue(metricsText: string, series: string): number | undefined {
  const line = metricsText.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Scrapes an agent's admin /metrics and reads one series. */
export async function scrapeMetric(adminAddress: string | undefined, series: string): Promise<number | undefined> {
  return metricValue(await (await fetch(`http://${adminAddress}/metrics`)).text(), series);
}

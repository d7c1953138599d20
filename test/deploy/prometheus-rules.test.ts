import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { AgentMetrics } from '../../src/telemetry/agent-metrics';
import { generateRoot } from '../../src/upstream/self-signed-upstream';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { needs } from '../support/tools';
import { alertCases, alertRules, asPrometheusQuery, dashboard, dashboardExprs, metricNames, PROMETHEUS_DIR, promtool, ruleTests, RULE_TESTS_FILE, RULES_FILE } from './support/prometheus-files';
import { repoFile } from './support/repo-files';

// deploy/prometheus/meshid-rules.yaml and deploy/grafana/meshid-dashboard.json, checked by the
// real promtool (Debian's prometheus package): the rules load, their unit tests pass, every
// alert has a firing and a quiet case, and every dashboard query parses. The metric names they
// read are checked against what the agent's registry really exports, so a rename in src/
// breaks this test rather than silently blinding an alert.

after(() => removeTempDirs());

describe('deploy/prometheus/meshid-rules.yaml', () => {
  const rules = alertRules();

  test('every alert is unit-tested, firing and not firing', () => {
    const cases = alertCases();
    assert.ok(rules.length > 0);
    const names = rules.map((rule) => rule.alert);
    assert.equal(new Set(names).size, names.length, `alert names are unique: ${names.join(', ')}`);
    for (const name of names) {
      const own = cases.filter((c) => c.alertname === name);
      assert.ok(own.some((c) => (c.exp_alerts ?? []).length > 0), `${name}: no case in ${RULE_TESTS_FILE} where it fires`);
      assert.ok(own.some((c) => (c.exp_alerts ?? []).length === 0), `${name}: no case in ${RULE_TESTS_FILE} where it stays quiet`);
    }
    for (const c of cases) assert.ok(names.includes(c.alertname), `${RULE_TESTS_FILE} tests ${c.alertname}, which is not in ${RULES_FILE}`);
    assert.deepEqual(ruleTests().rule_files, ['meshid-rules.yaml']);
  });

  test('every alert has a severity, a summary and a runbook naming the meshid command that diagnoses it', () => {
    for (const rule of rules) {
      assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, rule.alert);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
      assert.match(rule.annotations?.runbook ?? '', /\bmeshid (doctor|ca status|healthcheck|api fetch x509)\b/, `${rule.alert}: runbook`);
    }
  });

  test('the pinned conditions are there: ⅓ of an SVID lifetime, the root at 30 days, the agent down', () => {
    const expr = (name: string): string => rules.find((rule) => rule.alert === name)?.expr ?? '';
    assert.match(expr('MeshidSvidRotationOverdue'), /meshid_svid_rotation_overdue_timestamp_seconds/);
    assert.match(expr('MeshidRootExpiringSoon'), /meshid_ca_root_expiry_timestamp_seconds - time\(\) < 30 \* 86400/);
    assert.match(expr('MeshidEntriesFileInvalid'), /meshid_entries_file_valid == 0/);
    assert.match(expr('MeshidAgentDown'), /up\{job="meshid"\} == 0/);
  });

  test('promtool check rules accepts it', { skip: needs('promtool') }, () => {
    const result = promtool(['check', 'rules', path.basename(RULES_FILE)]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  test('promtool test rules: every unit test passes', { skip: needs('promtool') }, () => {
    const result = promtool(['test', 'rules', path.basename(RULE_TESTS_FILE)]);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS/);
    assert.doesNotMatch(result.output, /FAILED/);
  });
});

describe("README's scrape config", () => {
  test('promtool check config accepts it, with the rules loaded from deploy/prometheus', { skip: needs('promtool') }, async () => {
    const snippet = /```yaml\n(# prometheus\.yml\n[\s\S]*?)```/.exec(repoFile('README.md'))?.[1];
    assert.ok(snippet, 'README has the prometheus.yml snippet');
    assert.match(snippet, /job_name: meshid\b/, 'the job the rules select on');
    const dir = await makeTempDir('meshid-prometheus-');
    await writeFile(path.join(dir, 'prometheus.yml'), snippet.replace('/etc/prometheus/meshid-rules.yaml', path.join(PROMETHEUS_DIR, 'meshid-rules.yaml')));
    const result = promtool(['check', 'config', 'prometheus.yml'], dir);
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /SUCCESS: 1 rule files found/);
  });
});

describe('deploy/grafana/meshid-dashboard.json', () => {
  const board = dashboard();
  const exprs = dashboardExprs(board);

  test('shows SVIDs held and earliest expiry, open streams per API, push latency, rotation phase and attestation results', () => {
    assert.equal(board.uid, 'meshid-agents');
    const all = exprs.map((e) => e.expr).join('\n');
    assert.match(all, /meshid_svids_held/);
    assert.match(all, /meshid_svid_earliest_expiry_timestamp_seconds/);
    assert.match(all, /sum by \(api\) \(meshid_open_streams/);
    assert.match(all, /histogram_quantile\(0\.99, sum by \(le, api\) \(rate\(meshid_push_latency_seconds_bucket/);
    assert.match(all, /meshid_ca_rotation_phase/);
    assert.match(all, /sum by \(attestor, result\) \(rate\(meshid_attestations_total/);
    for (const e of exprs) assert.notEqual(e.expr.trim(), '', `panel ${e.panel} ${e.refId}: empty query`);
    assert.deepEqual(board.templating.list.map((v) => v.name), ['datasource', 'instance']);
  });

  test('every PromQL expression parses (promtool check rules on them as recording rules)', { skip: needs('promtool') }, async () => {
    const dir = await makeTempDir('meshid-dashboard-');
    const rules = exprs.map((e, i) => ({ record: `meshid_dashboard:query_${i}`, expr: asPrometheusQuery(e.expr) }));
    await writeFile(path.join(dir, 'dashboard-queries.yaml'), stringify({ groups: [{ name: 'meshid-dashboard', rules }] }));
    const result = promtool(['check', 'rules', 'dashboard-queries.yaml'], dir);
    const which = exprs.map((e, i) => `query_${i}: panel ${e.panel} ${e.refId}: ${e.expr}`).join('\n');
    assert.equal(result.status, 0, `${result.output}\n${which}`);
    assert.match(result.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  test('promtool rejects a broken query the same way (the check is not vacuous)', { skip: needs('promtool') }, async () => {
    const dir = await makeTempDir('meshid-dashboard-');
    await writeFile(path.join(dir, 'broken.yaml'), stringify({ groups: [{ name: 'g', rules: [{ record: 'meshid_dashboard:broken', expr: asPrometheusQuery('sum by (api (meshid_open_streams)') }] }] }));
    assert.notEqual(promtool(['check', 'rules', 'broken.yaml'], dir).status, 0);
  });
});

describe('the metrics the rules and the dashboard read', () => {
  test('are all exported by the agent', async () => {
    const metrics = new AgentMetrics();
    metrics.trackEntriesFile(); // exported only where an entries file is configured, as the rules assume
    const root = await generateRoot('example.org', new Date());
    const now = Date.now();
    metrics.observe(
      { list: () => [{ spiffeId: 'spiffe://example.org/a', serialHex: '01', notBeforeMs: now - 10_000, notAfterMs: now + 3_600_000, rotateAtMs: now + 1_800_000 }] },
      { authority: { notBeforeMs: now - 10_000, notAfterMs: now + 86_400_000 }, bundle: { version: 1, rootsDer: [root.upstream.signingCertificateDer] } },
    );
    const text = await metrics.metricsText();
    const exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const histogramSeries = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');
    const read = [...alertRules().map((rule) => rule.expr), ...dashboardExprs(dashboard()).map((e) => e.expr)].flatMap(metricNames).filter((name) => name.startsWith('meshid_'));
    assert.ok(read.length > 10, read.join(', '));
    for (const name of new Set(read)) {
      const base = exported.has(name) ? name : histogramSeries(name);
      assert.ok(exported.has(base), `${name} is read by the rules or the dashboard but the agent exports no such metric`);
      if (base !== name) assert.equal(exported.get(base), 'histogram', name);
    }
  });

  test('the rotation-overdue gauges mark a third of the lifetime left, counted from issuance', async () => {
    const metrics = new AgentMetrics();
    metrics.trackEntriesFile(); // exported only where an entries file is configured, as the rules assume
    const root = await generateRoot('example.org', new Date());
    const issued = 1_700_000_000_000;
    const svid = (name: string, ttlMs: number): { spiffeId: string; serialHex: string; notBeforeMs: number; notAfterMs: number; rotateAtMs: number } => ({
      spiffeId: `spiffe://example.org/${name}`,
      serialHex: name,
      notBeforeMs: issued - 10_000, // backdated 10 s, as minted
      notAfterMs: issued + ttlMs,
      rotateAtMs: issued + ttlMs / 2,
    });
    // Issued together: the 1 h SVID reaches its last third first (after 40 min; the 24 h one after 16 h).
    const held = [svid('long', 86_400_000), svid('short', 3_600_000)];
    metrics.observe({ list: () => held }, { authority: { notBeforeMs: issued - 10_000, notAfterMs: issued + 86_400_000 }, bundle: { version: 1, rootsDer: [root.upstream.signingCertificateDer] } });
    const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    let text = await metrics.metricsText();
    assert.equal(value(text, 'meshid_svid_rotation_overdue_timestamp_seconds'), (issued + 2_400_000) / 1000, 'the 1 h SVID: 40 min after issuance');
    assert.equal(value(text, 'meshid_ca_intermediate_rotation_overdue_timestamp_seconds'), (issued + 57_600_000) / 1000, 'the 24 h intermediate: 16 h after issuance');
    // A short SVID that expires first but was just re-minted is not the most overdue one.
    held.splice(0, 2, { ...svid('long', 86_400_000), notBeforeMs: issued - 72_000_000 - 10_000, notAfterMs: issued + 14_400_000 }, { ...svid('short', 3_600_000), notBeforeMs: issued + 3_590_000, notAfterMs: issued + 7_200_000 });
    text = await metrics.metricsText();
    assert.equal(value(text, 'meshid_svid_earliest_expiry_timestamp_seconds'), (issued + 7_200_000) / 1000);
    assert.equal(value(text, 'meshid_svid_rotation_overdue_timestamp_seconds'), (issued + 14_400_000 - 86_400_000 / 3) / 1000, 'the 24 h SVID with 4 h left is the overdue one');
    held.splice(0);
    text = await metrics.metricsText();
    // prom-client shows an unlabelled gauge that was reset as 0 (the rules guard with meshid_svids_held > 0).
    assert.equal(value(text, 'meshid_svid_rotation_overdue_timestamp_seconds'), 0, 'no SVID held');
  });
});

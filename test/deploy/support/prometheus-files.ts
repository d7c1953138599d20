import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO, repoFile } from './repo-files';

export const PROMETHEUS_DIR = path.join(REPO, 'deploy', 'prometheus');
export const RULES_FILE = 'deploy/prometheus/meshid-rules.yaml';
export const RULE_TESTS_FILE = 'deploy/prometheus/meshid-rules.test.yaml';
export const DASHBOARD_FILE = 'deploy/grafana/meshid-dashboard.json';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface RulesFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}

export interface AlertCase {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts?: readonly unknown[];
}

interface RuleTestsFile {
  readonly rule_files: readonly string[];
  readonly tests: readonly { readonly name?: string; readonly alert_rule_test?: readonly AlertCase[] }[];
}

export function alertRules(): AlertRule[] {
  return (parse(repoFile(RULES_FILE)) as RulesFile).groups.flatMap((group) => group.rules);
}

export function ruleTests(): RuleTestsFile {
  return parse(repoFile(RULE_TESTS_FILE)) as RuleTestsFile;
}

/** Every `alert_rule_test` case of the unit tests file. */
export function alertCases(): AlertCase[] {
  return ruleTests().tests.flatMap((test) => test.alert_rule_test ?? []);
}

interface Target {
  readonly refId?: string;
  readonly expr?: string;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
export interface Dashboard {
  readonly title: string;
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string }[] };
}

export function dashboard(): Dashboard {
  return JSON.parse(repoFile(DASHBOARD_FILE)) as Dashboard;
}

export interface DashboardExpr {
  readonly panel: string;
  readonly refId: string;
  readonly expr: string;
}

/** Every query of every panel, rows' collapsed panels included. */
export function dashboardExprs(board: Dashboard): DashboardExpr[] {
  const walk = (panels: readonly Panel[]): DashboardExpr[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).map((target) => ({ panel: `${panel.id} "${panel.title}"`, refId: target.refId ?? '?', expr: target.expr ?? '' })),
      ...walk(panel.panels ?? []),
    ]);
  return walk(board.panels);
}

/**
 * A dashboard query as Prometheus receives it: Grafana replaces its variables before sending
 * ($__rate_interval and the other ranges by a duration, a multi-value $instance by a regex).
 */
export function asPrometheusQuery(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g, '5m').replace(/\$instance\b|\$\{instance(:regex)?\}/g, '.*');
}

/** The metric names a PromQL expression reads: identifiers not followed by `(` (functions), not keywords or labels. */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutMatchers = withoutStrings.replace(/\{[^}]*\}/g, '{}');
  const withoutGrouping = withoutMatchers.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = withoutGrouping.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?![a-zA-Z0-9_:]*\s*\()/g) ?? [];
  const keywords = new Set(['and', 'or', 'unless', 'offset', 'bool', 'time', 'inf', 'nan', 'le']);
  return [...new Set(names.filter((name) => !keywords.has(name) && !/^\d/.test(name) && !/^[smhdwy]$/.test(name)))];
}

export interface CommandResult {
  readonly status: number | null;
  readonly output: string;
}

export function promtool(args: string[], cwd = PROMETHEUS_DIR): CommandResult {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ? String(result.error) : ''}` };
}

/**
 * A systemd unit file as systemd reads it (systemd.syntax(7)): [Section] headers, Key=Value
 * lines, `#` and `;` comments, a trailing backslash joining lines. A key may repeat; an empty
 * assignment (`Key=`) resets the list before it, which is how CapabilityBoundingSet= empties it.
 */
export type UnitFile = Map<string, Map<string, string[]>>;

export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  let pending = '';
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = `${pending}${rawLine.trim()}`;
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    pending = '';
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] ?? '', section);
      continue;
    }
    const assignment = /^([A-Za-z0-9]+)\s*=\s*(.*)$/.exec(line);
    if (!assignment || !section) throw new Error(`line ${index + 1} is neither a section nor Key=Value: ${rawLine}`);
    const [, key = '', value = ''] = assignment;
    section.set(key, value === '' ? [] : [...(section.get(key) ?? []), value]);
  }
  return unit;
}

/** The values of a key (empty when unset or reset); `undefined` when it never appears. */
export function unitValues(unit: UnitFile, section: string, key: string): string[] | undefined {
  return unit.get(section)?.get(key);
}

/** A single-valued key; fails when it is absent or given more than once. */
export function unitValue(unit: UnitFile, section: string, key: string): string {
  const values = unitValues(unit, section, key);
  if (values?.length !== 1) throw new Error(`[${section}] ${key} has ${values?.length ?? 0} values`);
  return values[0] as string;
}

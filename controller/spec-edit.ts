/**
 * Editing a running sweep's spec with lineage (issue 15, point 4): `harrow edit SWEEP new.yaml`,
 * PATCH /api/sweeps/:id/spec. The new file is parsed like a new sweep's, checked against the old
 * spec and the runs made (`checkSpecEdit`: what the data cannot support is refused with the
 * reason), and stored as a new version with its time, author and what changed. The sweep's runs
 * stay as they are: the strategy sees them through the new space (controller/warm-start.ts
 * `strategyInput`), so a run outside it stays visible but is not observed, and a parameter added
 * with `default:` is filled in for earlier runs. Every replica sees the edit at its next read of
 * the spec (`SpecCache` compares `sweeps.spec_version`).
 */
import { isMap, parseDocument } from 'yaml';
import { checkSpecEdit, extractDefaults, SpecEditError } from '../strategies/index.js';
import type { JsonValue, SweepSpec } from '../strategies/types.js';
import { HarrowError } from '../protocol/errors.js';
import type { EditSpecResponse, SpecVersion, SpecVersionsResponse } from '../protocol/api.js';
import { getSweep, lockSweep } from '../db/sweeps.js';
import { saveSpecVersion, specVersions, type SpecVersionRow } from '../db/warm-start.js';
import type { ControllerContext } from './context.js';
import { DefaultProposer } from './proposer.js';
import { sweepConfigReader } from './sweep-config-reader.js';
import { sweepDetail } from './sweep-service.js';
import { strategyInput } from './warm-start.js';

const notFound = (id: string) => new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);

/**
 * Takes `default:` out of a YAML file's parameters, keeping the rest as written (a float written
 * `1.0` stays a float, which `q_uniform`'s integer casting depends on).
 */
function defaultsOfYaml(text: string): { text: string; defaults: Record<string, JsonValue> } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new HarrowError('INVALID_SWEEP_CONFIG', `the new sweep file is not valid YAML: ${doc.errors[0]!.message}`);
  const defaults: Record<string, JsonValue> = {};
  const walk = (path: Array<string>, prefix: string): void => {
    const block = doc.getIn(path);
    if (!isMap(block)) return;
    for (const item of block.items) {
      const name = String((item.key as { value?: unknown } | null)?.value ?? item.key);
      if (!isMap(item.value)) continue;
      const dotted = prefix === '' ? name : `${prefix}.${name}`;
      if (item.value.has('default')) {
        const node: unknown = item.value.get('default', true);
        defaults[dotted] = (node !== null && typeof node === 'object' && 'toJSON' in node ? (node as { toJSON(): unknown }).toJSON() : node) as JsonValue;
        item.value.delete('default');
      }
      if (item.value.has('parameters')) walk([...path, name, 'parameters'], dotted);
    }
  };
  walk(['parameters'], '');
  return { text: doc.toString(), defaults };
}

function versionOf(r: SpecVersionRow): SpecVersion {
  return { version: r.version, createdAt: new Date(r.created_at).toISOString(), author: r.author, changes: r.changes, config: r.config_text };
}

async function lineageOf(ctx: ControllerContext, id: string, spec: SweepSpec): Promise<EditSpecResponse['lineage']> {
  const input = await strategyInput(ctx.db, id, spec);
  return {
    runs: input.runs,
    runsOutside: input.runsOutside,
    imported: input.imported,
    importedOutside: input.importedOutside,
    reasons: [...input.reasons].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
  };
}

export async function editSweepSpec(ctx: ControllerContext, id: string, config: string | Record<string, unknown>, author: string | null): Promise<EditSpecResponse> {
  let source: string | Record<string, unknown>;
  let defaults: Record<string, JsonValue>;
  if (typeof config === 'string') ({ text: source, defaults } = defaultsOfYaml(config));
  else ({ config: source, defaults } = extractDefaults(config));
  // Throws SweepConfigError with every { path, message }; the HTTP layer maps it to a 400.
  const next = await sweepConfigReader.parse(source);
  const configText = typeof config === 'string' ? config : JSON.stringify(config, null, 2);

  const { row, edit } = await ctx.db.transaction(async (tx) => {
    await lockSweep(tx, id);
    const sweep = await getSweep(tx, id, { forUpdate: true });
    if (!sweep) throw notFound(id);
    const old = sweep.spec as SweepSpec;
    let edit;
    try {
      edit = checkSpecEdit(old, next, defaults, sweep.next_number - 1);
    } catch (err) {
      if (err instanceof SpecEditError) {
        throw new HarrowError('INVALID_REQUEST', `edit refused: ${err.message}`, { details: { issues: err.reasons.map((message) => ({ path: 'spec', message })) }, cause: err });
      }
      throw err;
    }
    // run_cap raised by `harrow extend` or added runs stays as it is unless the file changes run_cap.
    const runCap = next.runCap === old.runCap ? sweep.run_cap : (next.runCap ?? null);
    const expectedRuns = edit.spec.method === 'grid' ? new DefaultProposer().size(edit.spec, sweep.seed) : null;
    const row = await saveSpecVersion(tx, sweep, { spec: edit.spec, configText, author, changes: edit.changes, runCap, expectedRuns });
    return { row, edit };
  });
  ctx.specs.set(id, edit.spec, row.spec_version);
  ctx.log.info({ sweepId: id, version: row.spec_version, author, changes: edit.changes }, 'sweep spec edited');
  ctx.poke(id);
  const versions = await specVersions(ctx.db, row);
  return { sweep: await sweepDetail(ctx, id), version: versionOf(versions[versions.length - 1]!), lineage: await lineageOf(ctx, id, edit.spec) };
}

export async function listSpecVersions(ctx: ControllerContext, id: string): Promise<SpecVersionsResponse> {
  const sweep = await getSweep(ctx.db, id);
  if (!sweep) throw notFound(id);
  const versions = await specVersions(ctx.db, sweep);
  return { sweepId: id, current: sweep.spec_version, versions: versions.map(versionOf), lineage: await lineageOf(ctx, id, sweep.spec as SweepSpec) };
}

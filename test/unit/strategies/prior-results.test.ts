/**
 * Prior results from W&B and MLflow exports (strategies/warm-start/prior-results.ts): the real
 * column layouts, values coerced to the sweep's space, rows outside it skipped with the reason, and
 * bad input refused with its row and column named.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePriorResults, parseSweepConfig, PriorResultsError, validateSweepConfig } from '../../../strategies/index.js';
import { parseCsv } from '../../../strategies/warm-start/csv.js';

const spec = parseSweepConfig(`
method: bayes
metric: {name: loss, goal: minimize}
program: train.py
parameters:
  lr: {min: 0.0001, max: 0.1, distribution: log_uniform_values}
  batch: {values: [32, 64, 128]}
  optimizer: {values: [adam, sgd]}
`);

const refused = (text: string, pattern: RegExp) =>
  assert.throws(
    () => parsePriorResults(text, spec, { fileName: 'runs.csv' }),
    (err: unknown) => err instanceof PriorResultsError && pattern.test(err.message),
  );

describe('W&B runs export', () => {
  it('reads the UI CSV: config and summary columns by name, State mapped, running rows skipped', () => {
    const csv = [
      'Name,State,Notes,User,Tags,Created,Runtime,Sweep,batch,lr,optimizer,epochs,loss,_step',
      'fluent-sun-1,finished,-,ana,,2026-11-01T10:00:00.000Z,120,abc123,64,0.01,adam,10,0.25,99',
      'calm-sea-2,crashed,-,ana,,2026-11-01T10:05:00.000Z,30,abc123,32,0.001,sgd,10,,12',
      'bold-sky-3,running,-,ana,,2026-11-01T10:06:00.000Z,30,abc123,32,0.001,sgd,10,0.9,12',
      '"odd, name",killed,-,ana,,2026-11-01T10:07:00.000Z,30,abc123,128,0.05,adam,10,0.5,5',
    ].join('\r\n');
    const r = parsePriorResults(csv, spec);
    assert.equal(r.format, 'wandb-csv');
    assert.equal(r.rows, 4);
    assert.deepEqual(
      r.results.map((x) => [x.sourceRun, x.state, x.value, x.params]),
      [
        ['fluent-sun-1', 'finished', 0.25, { batch: 64, lr: 0.01, optimizer: 'adam' }],
        ['calm-sea-2', 'crashed', null, { batch: 32, lr: 0.001, optimizer: 'sgd' }],
        ['odd, name', 'stopped', 0.5, { batch: 128, lr: 0.05, optimizer: 'adam' }],
      ],
    );
    assert.deepEqual(r.skipped, [{ row: 'row 4', reason: 'still running: no result yet' }]);
  });

  it('reads the API JSON (config, summary; {value} wrappers; prior_runs keeps the listed ids)', () => {
    const json = JSON.stringify([
      { id: 'a1', name: 'r1', state: 'finished', config: { lr: { value: 0.02 }, batch: 128, optimizer: 'sgd', _wandb: {} }, summary: { loss: 0.3, _runtime: 5 } },
      { id: 'a2', name: 'r2', state: 'finished', config: { lr: 0.5, batch: 128, optimizer: 'sgd' }, summary: { loss: 0.1 } },
      { id: 'a3', name: 'r3', state: 'failed', config: { lr: 0.003, batch: 32, optimizer: 'adam' }, summary: {} },
    ]);
    const r = parsePriorResults(json, spec);
    assert.equal(r.format, 'wandb-json');
    assert.deepEqual(r.results.map((x) => x.sourceRun), ['a1', 'a3']);
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]!.row, '[1]');
    assert.match(r.skipped[0]!.reason, /^outside the space: lr 0\.5 is outside \[0\.0001, 0\.1\]/);
    const only = parsePriorResults(json, spec, { priorRuns: ['r3'] });
    assert.deepEqual(only.results.map((x) => x.sourceRun), ['a3']);
  });
});

describe('MLflow export', () => {
  it('reads search_runs CSV: params.* as text coerced to the space, metrics.*, status', () => {
    const csv = [
      'run_id,experiment_id,status,artifact_uri,start_time,end_time,metrics.loss,params.lr,params.batch,params.optimizer,tags.mlflow.runName',
      '0a1,1,FINISHED,file:///x,2026-11-01 10:00:00+00:00,2026-11-01 10:02:00+00:00,0.4,0.01,32,adam,r1',
      '0a2,1,FAILED,file:///x,2026-11-01 10:00:00+00:00,,,0.02,64,sgd,r2',
      '0a3,1,FINISHED,file:///x,2026-11-01 10:00:00+00:00,,nan,0.02,64,sgd,r3',
    ].join('\n');
    const r = parsePriorResults(csv, spec);
    assert.equal(r.format, 'mlflow-csv');
    assert.deepEqual(
      r.results.map((x) => [x.sourceRun, x.state, x.value, x.params.batch]),
      [
        ['0a1', 'finished', 0.4, 32],
        ['0a2', 'failed', null, 64],
        ['0a3', 'failed', null, 64],
      ],
    );
  });

  it('reads the REST form (info, data.params, data.metrics)', () => {
    const json = JSON.stringify({
      runs: [
        {
          info: { run_id: 'x1', status: 'FINISHED' },
          data: {
            params: [
              { key: 'lr', value: '0.001' },
              { key: 'batch', value: '128' },
              { key: 'optimizer', value: 'adam' },
            ],
            metrics: [{ key: 'loss', value: 0.7 }],
          },
        },
      ],
    });
    const r = parsePriorResults(json, spec);
    assert.equal(r.format, 'mlflow-json');
    assert.deepEqual(r.results, [{ sourceRun: 'x1', state: 'finished', value: 0.7, params: { lr: 0.001, batch: 128, optimizer: 'adam' } }]);
  });
});

describe('bad input names the row and column', () => {
  it('a metric cell that is not a number', () => refused('lr,batch,optimizer,loss\n0.01,32,adam,0.5\n0.01,32,adam,abc\n', /^row 3, column "loss": "abc" is not a number/));
  it('a row with a missing cell', () => refused('lr,batch,optimizer,loss\n0.01,32,adam\n', /^row 2: has 3 cells but the header has 4/));
  it('no column for the metric, listing the columns', () => refused('lr,batch,optimizer,acc\n0.01,32,adam,0.5\n', /no column for the sweep's metric loss.*its columns are lr, batch, optimizer, acc/));
  it('an unknown state', () => refused('lr,batch,optimizer,loss,State\n0.01,32,adam,0.5,exploded\n', /^row 2, column "State": unknown run state "exploded"/));
  it('a duplicated header column', () => refused('lr,lr,loss\n1,2,3\n', /^row 1 \(the header\): column "lr" appears twice \(columns 1 and 2\)/));
  it('an unclosed quote', () => refused('lr,loss\n"0.01,0.5\n', /^row 2, column 1: a quoted cell opened on line 2 is never closed/));
  it('a stray quote', () => refused('lr,loss\n0.0"1,0.5\n', /^row 2, column 1: a quote inside an unquoted cell/));
  it('JSON that is not a list of runs', () => refused('{"a": 1}', /expected a list of runs/));
  it('invalid JSON', () => refused('[{"a": 1}', /not valid JSON/));
  it('a JSON run that is not an object', () => refused('[1]', /^\[0\]: must be an object/));
  it('an empty file', () => refused('   ', /is empty/));
});

describe('csv', () => {
  it('quoted cells with commas, doubled quotes and line breaks; CRLF; blank lines skipped', () => {
    assert.deepEqual(parseCsv('a,b\r\n"x, ""y""","line1\nline2"\n\n1,2'), [
      { row: 1, cells: ['a', 'b'] },
      { row: 2, cells: ['x, "y"', 'line1\nline2'] },
      { row: 3, cells: ['1', '2'] },
    ]);
  });
});

describe('harrow.warm_start in the sweep file', () => {
  const head = 'method: bayes\nmetric: {name: loss, goal: minimize}\nprogram: t.py\nparameters:\n  lr: {min: 0.0, max: 1.0}\n';
  it('reads from, file and prior_runs', () => {
    assert.deepEqual(parseSweepConfig(`${head}harrow: {warm_start: {from: sw_1}}`).harrow.warmStart, { from: 'sw_1' });
    assert.deepEqual(parseSweepConfig(`${head}harrow: {warm_start: {file: r.csv, prior_runs: [a, b]}}`).harrow.warmStart, { file: 'r.csv', priorRuns: ['a', 'b'] });
  });
  it('refuses both sources, none, unknown keys, with the path', () => {
    const errs = (w: string) => validateSweepConfig(`${head}harrow: {warm_start: ${w}}`).errors.map((e) => `${e.path}: ${e.message}`);
    assert.match(errs('{from: a, file: b}').join(), /^harrow\.warm_start: give exactly one source/);
    assert.match(errs('{}').join(), /^harrow\.warm_start: give exactly one source/);
    assert.match(errs('{from: a, form: b}').join(), /harrow\.warm_start\.form: unknown key/);
    assert.match(errs('[a]').join(), /^harrow\.warm_start: must be a mapping/);
    assert.match(errs('{from: a, prior_runs: []}').join(), /^harrow\.warm_start\.prior_runs: list at least one run id/);
  });
});

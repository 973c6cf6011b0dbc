import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { endOfJob, jobHasEnded, parseExitCode, parseScontrolJob } from '../../../../agent/slurm/slurm-job-state.js';
import { parseSbatchOptions } from '../../../../agent/slurm/sbatch-options.js';
import { batchScript } from '../../../../agent/slurm/slurm-launcher.js';

void test('Slurm job states: which have ended, and how each ends a run', () => {
  for (const s of ['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED', 'REQUEUED', 'SOMETHING_NEW']) assert.equal(jobHasEnded(s), false, s);
  for (const s of ['COMPLETED', 'FAILED', 'CANCELLED', 'CANCELLED by 0', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE']) {
    assert.equal(jobHasEnded(s), true, s);
  }
  assert.deepEqual(endOfJob('7', 'COMPLETED', '0:0'), { kind: 'exited', code: 0, signal: null });
  assert.deepEqual(endOfJob('7', 'FAILED', '3:0'), { kind: 'exited', code: 3, signal: null });
  assert.deepEqual(endOfJob('7', 'FAILED', '0:15'), { kind: 'exited', code: null, signal: 'SIGTERM' });
  assert.equal(endOfJob('7', 'FAILED', '0:0').kind, 'spawn-failed');
  assert.equal(endOfJob('7', 'OUT_OF_MEMORY', '0:125').kind, 'spawn-failed');
  assert.deepEqual(endOfJob('7', 'CANCELLED by 0', '0:15', 'None'), { kind: 'lost', reason: 'Slurm ended job 7 as CANCELLED' });
  assert.deepEqual(endOfJob('8', 'NODE_FAIL', '0:0', 'NodeDown'), { kind: 'lost', reason: 'Slurm ended job 8 as NODE_FAIL (NodeDown)' });
  assert.equal(endOfJob('9', 'TIMEOUT', '0:0').kind, 'lost');
  assert.deepEqual(parseExitCode('garbage'), { code: null, signal: null });
});

void test('scontrol show job --oneliner fields', () => {
  const f = parseScontrolJob('JobId=2 JobName=harrow-r1 UserId=root(0) JobState=CANCELLED Reason=None Dependency=(null) ExitCode=0:15 RunTime=00:00:03');
  assert.equal(f.JobState, 'CANCELLED');
  assert.equal(f.ExitCode, '0:15');
  assert.equal(f.Reason, 'None');
});

void test('--slurm options are split like a shell and refuse what Harrow sets', () => {
  assert.deepEqual(parseSbatchOptions(`-p gpu --gres=gpu:2  --time=2:00:00 --comment='two words' --constraint="a|b"`), [
    '-p', 'gpu', '--gres=gpu:2', '--time=2:00:00', '--comment=two words', '--constraint=a|b',
  ]);
  assert.deepEqual(parseSbatchOptions(''), []);
  assert.throws(() => parseSbatchOptions('--output=x.log'), /--output is set by Harrow/);
  assert.throws(() => parseSbatchOptions('-o x.log'), /-o is set by Harrow/);
  assert.throws(() => parseSbatchOptions('--wrap "echo"'), /--wrap is set by Harrow/);
  assert.throws(() => parseSbatchOptions(`--comment='open`), /unclosed ' quote/);
});

void test('the batch script execs the command with every argument intact', () => {
  const argv = ['printf', '%s|', "it's", 'a b', '$HOME', '`x`', '--lr=0.1'];
  const r = spawnSync('sh', ['-c', batchScript('run/1', argv)], { encoding: 'utf8' });
  assert.equal(r.stdout, "it's|a b|$HOME|`x`|--lr=0.1|");
});

/** The sweep most end-to-end suites run: test/fixtures/scripts/trainer.py over a random `x`. */

/** Points one complete execution of trainer.py prints: `loss` every step, `acc` every other step. */
export function pointsPerRun(steps: number): number {
  return steps + Math.ceil(steps / 2);
}

/** The sweep file: `steps` steps of `sleep` s each, `runCap` runs; `extra` is YAML appended as is (a `harrow:` block). */
export function trainerSweep(o: { name: string; runCap: number; steps: number; sleep: number; extra?: string }): string {
  return `
name: ${o.name}
method: random
metric: {name: loss, goal: minimize}
run_cap: ${o.runCap}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: ${o.steps}}
  sleep: {value: ${o.sleep}}
${o.extra ?? ''}`;
}

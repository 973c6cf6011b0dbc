/**
 * Renders a sweep's command template with one run's params into the argv the agent spawns, as a
 * W&B agent (`wandb/wandb_agent.py`, `sdk/launch/sweeps/utils.py`) does:
 *
 * - An element that is exactly a list macro is replaced by its elements: `${env}` (`/usr/bin/env`,
 *   nothing on Windows), `${args}` (`--name=value`), `${args_no_hyphens}` (`name=value`),
 *   `${args_no_boolean_flags}` (`--name` for true, nothing for false, else `--name=value`),
 *   `${args_no_equals}` (`--name`, `value`), `${args_append_hydra}` (`+name=value`),
 *   `${args_override_hydra}` (`++name=value`).
 * - `${interpreter}` is the literal `python` (not the agent's interpreter, as in W&B),
 *   `${program}` the sweep's program, `${args_json}` the params as one JSON object (Python's
 *   `json.dumps`), `${args_json_file}` the path of a file holding that JSON.
 * - `${envvar:NAME}` is the agent's environment variable, or the literal `NAME` when unset (W&B's
 *   behaviour), and may sit inside a longer element.
 * - Beyond W&B: `${name}` anywhere in an element is that parameter's value (`--lr=${lr}`,
 *   `${optimizer.lr}` into nested parameters), and text macros may sit inside an element too
 *   (`--config=${args_json_file}`). `$${x}` gives a literal `${x}`.
 *
 * Values are Python's `str()` of the value (see python-format.ts); params are listed in sorted
 * name order, nested params as one dict-valued argument per top-level name.
 * No shell is involved: each element is one argv string, spaces and all.
 */
import type { JsonValue, Params } from '../types.js';
import { sortedKeys } from '../space/flatten.js';
import { parseElement, type ListMacro, type TextMacro } from './command-template.js';
import { pyJsonDumps, pyStr } from './python-format.js';

export interface RenderContext {
  /** The sweep's `program`, for `${program}`. */
  program?: string;
  /** The agent's environment, for `${envvar:NAME}`. */
  env: Record<string, string | undefined>;
  /** Path of the JSON file holding the params, for `${args_json_file}`. */
  argsJsonFile?: string;
  /** `process.platform` of the agent's box; `win32` drops `${env}`. Default: not Windows. */
  platform?: string;
}

/** The text of `${args_json}` and the content of `${args_json_file}`. */
export function renderArgsJson(params: Params): string {
  return pyJsonDumps(params);
}

/**
 * Finds `${ref}` in params: an exact top-level name first (names may contain dots), else a path
 * into nested objects, trying each dot as a separator from left to right.
 */
export function lookupParam(params: { readonly [k: string]: JsonValue }, ref: string): { value: JsonValue } | undefined {
  if (Object.hasOwn(params, ref)) return { value: params[ref]! };
  for (let i = ref.indexOf('.'); i > 0; i = ref.indexOf('.', i + 1)) {
    const head = ref.slice(0, i);
    if (!Object.hasOwn(params, head)) continue;
    const sub = params[head];
    if (sub !== null && typeof sub === 'object' && !Array.isArray(sub)) {
      const found = lookupParam(sub, ref.slice(i + 1));
      if (found) return found;
    }
  }
  return undefined;
}

function listMacro(name: ListMacro, params: Params, ctx: RenderContext): string[] {
  const entries = sortedKeys(params).map((k) => [k, params[k]!] as const);
  switch (name) {
    case 'env':
      return ctx.platform === 'win32' ? [] : ['/usr/bin/env'];
    case 'args':
      return entries.map(([k, v]) => `--${k}=${pyStr(v)}`);
    case 'args_no_hyphens':
      return entries.map(([k, v]) => `${k}=${pyStr(v)}`);
    case 'args_no_boolean_flags':
      return entries.flatMap(([k, v]) => (typeof v === 'boolean' ? (v ? [`--${k}`] : []) : [`--${k}=${pyStr(v)}`]));
    case 'args_no_equals':
      return entries.flatMap(([k, v]) => [`--${k}`, pyStr(v)]);
    case 'args_append_hydra':
      return entries.map(([k, v]) => `+${k}=${pyStr(v)}`);
    case 'args_override_hydra':
      return entries.map(([k, v]) => `++${k}=${pyStr(v)}`);
  }
}

function textMacro(name: TextMacro, params: Params, ctx: RenderContext): string {
  switch (name) {
    case 'interpreter':
      return 'python';
    case 'program':
      if (ctx.program === undefined) throw new Error('the command uses ${program} but the sweep has no program');
      return ctx.program;
    case 'args_json':
      return renderArgsJson(params);
    case 'args_json_file':
      if (ctx.argsJsonFile === undefined) throw new Error('the command uses ${args_json_file} but no params file was given');
      return ctx.argsJsonFile;
  }
}

export function renderCommand(command: readonly string[], params: Params, ctx: RenderContext): string[] {
  const argv: string[] = [];
  for (const element of command) {
    const parts = parseElement(element);
    const only = parts.length === 1 ? parts[0]! : undefined;
    if (only?.kind === 'macro' && !isText(only.name)) {
      argv.push(...listMacro(only.name, params, ctx));
      continue;
    }
    let text = '';
    for (const part of parts) {
      switch (part.kind) {
        case 'text':
          text += part.text;
          break;
        case 'envvar':
          text += ctx.env[part.name] ?? part.name;
          break;
        case 'macro':
          // A list macro inside a longer element is refused by validation; render defensively.
          text += isText(part.name) ? textMacro(part.name, params, ctx) : listMacro(part.name, params, ctx).join(' ');
          break;
        case 'param': {
          const found = lookupParam(params, part.ref);
          if (!found) throw new Error(`the command uses \${${part.ref}} but the run has no parameter ${part.ref}`);
          text += pyStr(found.value);
          break;
        }
        case 'bad':
          throw new Error(`the command element ${JSON.stringify(element)} has ${part.raw}, which ${part.reason}`);
      }
    }
    argv.push(text);
  }
  return argv;
}

function isText(name: ListMacro | TextMacro): name is TextMacro {
  return name === 'interpreter' || name === 'program' || name === 'args_json' || name === 'args_json_file';
}

/**
 * The command template language: W&B's macros, `${envvar:NAME}`, and Harrow's per-parameter
 * placeholders (`--lr=${lr}`, `${optimizer.lr}`), plus `$${...}` for a literal `${...}` (a shell
 * variable in `sh -c "..."`). The validator calls `checkCommandTemplate` at parse time, so a typo
 * such as `${interpereter}`, which a W&B agent silently drops, is an error with a hint instead.
 */
import { closestMatch } from '../spec/closest-match.js';

/** Macros that expand to zero or more argv elements; they must be a whole element. */
export const LIST_MACROS = [
  'env',
  'args',
  'args_no_hyphens',
  'args_no_boolean_flags',
  'args_no_equals',
  'args_append_hydra',
  'args_override_hydra',
] as const;
/** Macros that expand to exactly one piece of text; Harrow also allows them inside an element. */
export const TEXT_MACROS = ['interpreter', 'program', 'args_json', 'args_json_file'] as const;

export type ListMacro = (typeof LIST_MACROS)[number];
export type TextMacro = (typeof TEXT_MACROS)[number];
export const MACROS: readonly string[] = [...LIST_MACROS, ...TEXT_MACROS];

/** W&B's default command: `${env} ${interpreter} ${program} ${args}`. */
export const DEFAULT_COMMAND: readonly string[] = ['${env}', '${interpreter}', '${program}', '${args}'];

/** Returns a fresh copy of the default command. */
export function defaultCommand(): string[] {
  return [...DEFAULT_COMMAND];
}

export function isListMacro(name: string): name is ListMacro {
  return (LIST_MACROS as readonly string[]).includes(name);
}
export function isTextMacro(name: string): name is TextMacro {
  return (TEXT_MACROS as readonly string[]).includes(name);
}

/**
 * The names W&B's agent expands in `${envvar:NAME}` (`wandb/sdk/launch/sweeps/utils.py`):
 * capitals, digits and `_`, possibly none (`${envvar:}` is the empty string). Any other name is
 * left unexpanded by W&B, so Harrow refuses it rather than expand what W&B would not.
 */
const ENV_NAME = /^[A-Z0-9_]*$/;

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'macro'; name: ListMacro | TextMacro }
  | { kind: 'envvar'; name: string }
  | { kind: 'param'; ref: string }
  | { kind: 'bad'; raw: string; reason: string };

/** Splits one argv element into literal text and `${...}` references. */
export function parseElement(element: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < element.length) {
    const at = element.indexOf('$', i);
    if (at < 0) {
      text += element.slice(i);
      break;
    }
    text += element.slice(i, at);
    if (element.startsWith('$${', at)) {
      // `$${x}` is the escape for a literal `${x}`.
      const close = element.indexOf('}', at + 3);
      if (close < 0) {
        text += element.slice(at + 1);
        break;
      }
      text += element.slice(at + 1, close + 1);
      i = close + 1;
      continue;
    }
    if (!element.startsWith('${', at)) {
      text += '$';
      i = at + 1;
      continue;
    }
    const close = element.indexOf('}', at + 2);
    if (text) parts.push({ kind: 'text', text });
    text = '';
    if (close < 0) {
      parts.push({ kind: 'bad', raw: element.slice(at), reason: 'is not closed with }' });
      break;
    }
    const inner = element.slice(at + 2, close);
    const raw = element.slice(at, close + 1);
    if (isListMacro(inner) || isTextMacro(inner)) parts.push({ kind: 'macro', name: inner });
    else if (inner.startsWith('envvar:')) {
      const name = inner.slice('envvar:'.length);
      if (ENV_NAME.test(name)) parts.push({ kind: 'envvar', name });
      else {
        parts.push({
          kind: 'bad',
          raw,
          reason:
            `names a variable W&B's agent does not expand (it expands only names of capitals, digits and _, ` +
            `and would pass ${raw} on unexpanded); rename the variable, e.g. \${envvar:${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}`,
        });
      }
    } else if (inner.trim() === '') parts.push({ kind: 'bad', raw, reason: 'is empty' });
    else parts.push({ kind: 'param', ref: inner });
    i = close + 1;
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

export interface TemplateContext {
  /** Whether the sweep sets `program` (needed by `${program}`). */
  hasProgram: boolean;
  /** Whether `${ref}` names a parameter (a top-level name, or a path into nested parameters). */
  hasParam(ref: string): boolean;
  /** Parameter names, for "did you mean" hints. */
  paramNames: readonly string[];
}

export interface TemplateProblem {
  /** Index of the offending element in `command`. */
  index: number;
  message: string;
}

/** Every problem of a command template, each tied to its element. */
export function checkCommandTemplate(command: readonly string[], ctx: TemplateContext): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  command.forEach((element, index) => {
    const parts = parseElement(element);
    const whole = parts.length === 1;
    for (const part of parts) {
      switch (part.kind) {
        case 'text':
        case 'envvar':
          break;
        case 'bad':
          problems.push({
            index,
            message: `${part.raw} ${part.reason}; write $\${...} for a literal \${...}`,
          });
          break;
        case 'macro':
          if (isListMacro(part.name) && !whole) {
            problems.push({
              index,
              message: `\${${part.name}} expands to ${part.name === 'env' ? 'zero or one' : 'several'} arguments, so it must be a command element of its own (found inside ${JSON.stringify(element)})`,
            });
          }
          if (part.name === 'program' && !ctx.hasProgram) {
            problems.push({ index, message: '${program} needs the top-level program key; add program: train.py (or write the script name into command)' });
          }
          break;
        case 'param':
          if (!ctx.hasParam(part.ref)) problems.push({ index, message: unknownRefMessage(part.ref, ctx) });
          break;
      }
    }
  });
  return problems;
}

function unknownRefMessage(ref: string, ctx: TemplateContext): string {
  // `${python}` is a common way to spell W&B's interpreter macro.
  const guess = /^py(thon|hton)?3?$/i.test(ref) ? 'interpreter' : closestMatch(ref, [...MACROS, ...ctx.paramNames]);
  const literal = `write $\${${ref}} to pass it through literally (e.g. for a shell)`;
  if (guess) return `\${${ref}} is neither a macro nor a parameter; did you mean \${${guess}}? (or ${literal})`;
  return (
    `\${${ref}} is neither a macro nor a parameter; ` +
    `macros are ${MACROS.map((m) => `\${${m}}`).join(', ')} and \${envvar:NAME}, parameters are written \${name}; ${literal}`
  );
}

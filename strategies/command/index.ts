/** Command templates: W&B's macros and value rendering, plus per-parameter placeholders. */
export { renderCommand, renderArgsJson, lookupParam, type RenderContext } from './render-command.js';
export {
  checkCommandTemplate,
  defaultCommand,
  parseElement,
  DEFAULT_COMMAND,
  MACROS,
  LIST_MACROS,
  TEXT_MACROS,
  type TemplateContext,
  type TemplateProblem,
  type TemplatePart,
} from './command-template.js';
export { pyStr, pyRepr, pyJsonDumps, pyFloatRepr, pyStringRepr } from './python-format.js';

// DOM building and formatting shared by every view. Every string from the server goes in through
// text nodes, never innerHTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    // Through the CSSOM: a style attribute would need 'unsafe-inline' in the page's CSP.
    else if (k === 'style') el.style.cssText = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replaceChildren, minus the null/false placeholders of optional parts (the DOM would print "null"). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

export function fmt(x, digits = 5) {
  if (x === null || x === undefined) return '–';
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (Number.isInteger(x) && abs < 1e15) return String(x);
  const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (abs >= 1e9 || abs < 1e-4) {
    const [m, e] = x.toExponential(digits - 1).split('e');
    return `${trim(m)}e${e.replace('+', '')}`;
  }
  if (abs >= 10 ** digits) return String(Math.round(x));
  return trim(x.toPrecision(digits));
}

export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

/** Wall time of a run so far (a running one keeps growing: the page's clock ticks it). */
export function runTime(run) {
  if (!run.startedAt) return null;
  return (run.endedAt ? Date.parse(run.endedAt) : Date.now()) - Date.parse(run.startedAt);
}

export function ago(iso) {
  return iso ? `${duration(Date.now() - Date.parse(iso))} ago` : '–';
}

/** A value as the table and the tooltips show it. */
export function valueText(v) {
  if (typeof v === 'number') return fmt(v, 4);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function paramText(params) {
  const flat = flatParams(params);
  return Object.keys(flat)
    .sort()
    .map((k) => `${k}=${valueText(flat[k])}`)
    .join('  ');
}

/** Dotted name → value, for nested parameter blocks. */
export function flatParams(params, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatParams(v, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

export function badge(state) {
  return h('span', { class: `state state-${state}` }, state);
}

/** An early-termination stop in words: "hyperband at band 27: 0.15978 vs threshold 0.15436". */
export function stopText(info) {
  const { rule, message, value, threshold, band, rung, at, optimistic } = info;
  if (rule === 'user' || typeof value !== 'number' || typeof threshold !== 'number') return message ?? 'stopped';
  const where = band !== undefined ? ` at band ${band}` : rung !== undefined ? ` at rung ${rung}` : at !== undefined ? ` after ${at} values` : '';
  if (rule === 'model' && typeof optimistic === 'number') return `model${where}: predicted final ${fmt(value)} (optimistic ${fmt(optimistic)}) vs best ${fmt(threshold)}`;
  return `${rule}${where}: ${fmt(value)} vs ${rule === 'median' ? 'median' : 'threshold'} ${fmt(threshold)}`;
}

export function runNote(run) {
  if (run.stopInfo) return run.state === 'running' ? `stopping: ${stopText(run.stopInfo)}` : stopText(run.stopInfo);
  if (run.state === 'failed' && run.exitCode !== null && !/exit|signal/i.test(run.reason ?? '')) return `exit ${run.exitCode}${run.reason ? `: ${run.reason}` : ''}`;
  if (run.state === 'running') return [run.host, run.gpu !== null ? `gpu ${run.gpu}` : null].filter(Boolean).join(' ');
  if (run.state === 'finished') return '';
  return run.reason ?? '';
}

/** An argv as one line a POSIX shell runs the same (`$NAME` left bare, so the shell expands it). */
export function shellLine(argv) {
  return argv.map((a) => (/^[\w@%+=:,./$-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/**
 * A button that copies `text()` and says so. The Clipboard API needs a secure context (https or
 * localhost); elsewhere the text is selected for Ctrl+C instead.
 */
export function copyButton(text, target, label = 'Copy') {
  const button = h(
    'button',
    {
      type: 'button',
      class: 'copy-button',
      onclick: async () => {
        try {
          await window.navigator.clipboard.writeText(text());
          button.textContent = 'Copied';
        } catch {
          const range = document.createRange();
          range.selectNodeContents(target);
          window.getSelection().removeAllRanges();
          window.getSelection().addRange(range);
          button.textContent = 'Selected: press Ctrl+C';
        }
        setTimeout(() => (button.textContent = label), 2000);
      },
    },
    label,
  );
  return button;
}

/** Refused metric points and data loss in a few words (the run page shows the full messages). */
export function warningNote(run) {
  const plural = (n) => (n === 1 ? '' : 's');
  const parts = (run.warnings ?? []).map((w) =>
    w.kind === 'data_loss' ? `data loss: ${w.count} point${plural(w.count)} missing` : `${w.count} point${plural(w.count)} refused`,
  );
  return parts.length ? `⚠ ${parts.join(', ')}` : '';
}

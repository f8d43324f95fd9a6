// Colours of the event groups as CSS classes (`g-document`, …): icon colour for text, fill for the
// density chart's SVG. Built from format.ts's constants, never from log data.
import { css, unsafeCSS } from 'lit';
import { GROUP_COLORS, GROUP_ORDER } from './format.js';

const rules = GROUP_ORDER.map((g) => `.g-${g} { color: ${GROUP_COLORS[g]}; } path.g-${g}, rect.g-${g} { fill: ${GROUP_COLORS[g]}; }`).join('\n');

export const groupStyles = css`
  ${unsafeCSS(rules)}
`;

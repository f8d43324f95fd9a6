// Inline styles without a `style` attribute: the explorer's CSP has no 'unsafe-inline' for styles,
// and lit's styleMap writes the attribute on its first render. This directive sets properties
// through the CSSOM (element.style.setProperty), which the CSP allows.
import { noChange } from 'lit';
import type { ElementPart, PartInfo } from 'lit/directive.js';
import { Directive, PartType, directive } from 'lit/directive.js';

/** CSS properties (custom properties included) by name; null removes one. */
export type StyleProps = Readonly<Record<string, string | null>>;

class StylePropsDirective extends Directive {
  private previous: StyleProps = {};

  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ELEMENT) throw new Error('styleProps goes in an element position: <div ${styleProps({...})}>');
  }

  override render(_props: StyleProps): unknown {
    return noChange;
  }

  override update(part: ElementPart, [props]: [StyleProps]): unknown {
    const style = (part.element as HTMLElement).style;
    for (const name of Object.keys(this.previous)) if (!(name in props)) style.removeProperty(name);
    for (const [name, value] of Object.entries(props)) {
      if (this.previous[name] === value) continue;
      if (value === null) style.removeProperty(name);
      else style.setProperty(name, value);
    }
    this.previous = props;
    return noChange;
  }
}

/** Sets inline CSS properties through the CSSOM: `<div ${styleProps({ '--size': '40%' })}>`. */
export const styleProps = directive(StylePropsDirective);

import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('rl-timeline')
export class TimelineView extends LitElement {
  override render() {
    return html`<p>rl-timeline</p>`;
  }
}

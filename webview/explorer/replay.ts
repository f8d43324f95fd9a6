import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('rl-replay')
export class ReplayView extends LitElement {
  override render() {
    return html`<p>rl-replay</p>`;
  }
}

import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('rl-compare')
export class CompareView extends LitElement {
  override render() {
    return html`<p>rl-compare</p>`;
  }
}

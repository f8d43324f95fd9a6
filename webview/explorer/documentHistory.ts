import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';

@customElement('rl-document-history')
export class DocumentHistoryView extends LitElement {
  override render() {
    return html`<p>rl-document-history</p>`;
  }
}

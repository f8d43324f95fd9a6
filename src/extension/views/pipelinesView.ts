import * as vscode from 'vscode';
import type { PipelineConfig } from '../../core/pipeline/pipelineConfig.js';
import type { PipelineRecord } from '../../core/projections/pipelines.js';
import type { EngineHost } from '../engineHost.js';

export type PipelineNode = { readonly kind: 'pipeline'; readonly record: PipelineRecord } | { readonly kind: 'detail'; readonly id: string; readonly label: string; readonly value: string };

/** The Pipelines view: every defined version, the active one, and build progress of the others. */
export class PipelinesView implements vscode.TreeDataProvider<PipelineNode> {
  private readonly changed = new vscode.EventEmitter<PipelineNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Live progress of a build running now, by version. */
  readonly building = new Map<string, string>();

  constructor(private readonly host: EngineHost) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: PipelineNode): PipelineNode[] {
    const engine = this.host.current;
    if (!engine) return [];
    if (!node) return engine.ledger.readModels.pipelines().map((record) => ({ kind: 'pipeline' as const, record }));
    if (node.kind !== 'pipeline') return [];
    const c = node.record.config as unknown as PipelineConfig;
    const v = node.record.pipeline_version;
    const rows: [string, string][] = [
      ['embedder', `${c.embedder.model} (${c.embedder.dtype}, ${c.embedder.dimensions} dims)`],
      ['chunking', `markdown ${c.chunker.markdownMaxChars} chars · code ${c.chunker.codeWindowLines} lines (overlap ${c.chunker.codeOverlapLines}) · text ${c.chunker.textMaxChars} chars`],
      ['retrieval', `${c.retrieval.mode}, k ${c.retrieval.k}`],
      ['generator', c.generator.model],
      ['defined', new Date(node.record.defined_at).toLocaleString()],
    ];
    return rows.map(([label, value]) => ({ kind: 'detail' as const, id: `${v}:${label}`, label, value }));
  }

  getTreeItem(node: PipelineNode): vscode.TreeItem {
    if (node.kind === 'detail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.description = node.value;
      item.tooltip = node.value;
      return item;
    }
    const engine = this.host.current!;
    const v = node.record.pipeline_version;
    const active = engine.ledger.readModels.activePipeline() === v;
    const progress = engine.ledger.readModels.pipelineProgress(v);
    const item = new vscode.TreeItem(`${node.record.label} · ${v}`, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `pv:${v}`;
    const live = this.building.get(v);
    item.description = active
      ? `active · ${progress.indexed}/${progress.chunks} chunks indexed`
      : live
        ? `building: ${live}`
        : progress.complete
          ? `built · ${progress.indexed} chunks`
          : `shadow · ${progress.documents}/${progress.liveDocuments} documents, ${progress.embedded}/${progress.chunks} embedded`;
    item.iconPath = new vscode.ThemeIcon(active ? 'pass-filled' : live ? 'loading~spin' : progress.complete ? 'circle-large-outline' : 'tools');
    item.contextValue = active ? 'pipeline.active' : progress.complete ? 'pipeline.built' : 'pipeline.shadow';
    item.tooltip = `${v}${active ? ' (active)' : ''}\n${progress.documents}/${progress.liveDocuments} documents chunked, ${progress.chunks} chunks, ${progress.embedded} embedded, ${progress.indexed} indexed`;
    return item;
  }
}

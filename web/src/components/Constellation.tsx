"use client";
/**
 * Alpha constellation (react-force-graph-3d, loaded lazily): ideas → candidates → fields and
 * operators, coloured by lane and by simulation result. Its own WebGL context is paused once the
 * layout has cooled, so it costs nothing while idle; hovering resumes it.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ForceGraphMethods } from "react-force-graph-3d";
import ForceGraph3D from "react-force-graph-3d";
import { COLORS, nodeColor, type GraphNode } from "@/lib/constellation";
import { useHudSelector, useRuntime } from "./runtime-context";

type FGNode = GraphNode & { x?: number; y?: number; z?: number };

const nodeLabel = (n: object) => {
  const g = n as FGNode;
  return `${g.kind}: ${g.label}${g.sharpe != null ? ` · Sharpe ${g.sharpe.toFixed(2)}` : ""}`;
};
const nodeColorOf = (n: object) => nodeColor(n as FGNode);
const nodeVal = (n: object) => {
  const g = n as FGNode;
  return g.kind === "idea" ? 6 : g.kind === "candidate" ? (g.result === "passed" ? 4 : 2.5) : 0.8 + Math.min(3, (g.uses ?? 1) * 0.4);
};
const linkColor = (l: object) => ((l as { kind: string }).kind === "idea-candidate" ? "rgba(103,232,249,0.55)" : "rgba(96,165,250,0.22)");
const linkParticles = (l: object) => ((l as { kind: string }).kind === "idea-candidate" ? 1 : 0);
const particleColor = () => "#a5f3fc";
const RENDERER_CONFIG = { antialias: false, alpha: true, powerPreference: "low-power" as const };

export default function Constellation({ width, height, onPick }: { width: number; height: number; onPick?: (candidateId: string) => void }) {
  const rt = useRuntime();
  // re-render on graph changes only (not on every HUD update): props of ForceGraph3D that change
  // identity make it re-digest every node
  useHudSelector(rt, (r) => `${r.mode}:${r.state.runId}:${r.state.graph.version}`);
  const graphAcc = rt.state.graph;
  // Batch graph updates: each update restarts the layout and the graph's own render loop (~6 ms
  // of main-thread script per frame while it runs), so they are rate-limited, more so at low
  // quality levels where frames are scarce.
  const [version, setVersion] = useState(graphAcc.version);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(graphAcc);
  latest.current = graphAcc;
  useEffect(() => {
    if (graphAcc.version === version || pending.current) return;
    const delay = version === 0 || rt.mode === "replay" ? 0 : rt.quality.level >= 4 ? 1000 : 4000;
    pending.current = setTimeout(() => {
      pending.current = null;
      setVersion(latest.current.version);
    }, delay);
  });
  useEffect(() => () => {
    if (pending.current) clearTimeout(pending.current);
  }, []);
  const fg = useRef<ForceGraphMethods | undefined>(undefined);
  const [paused, setPaused] = useState(false);
  // keep node objects stable across updates so the layout does not restart from scratch
  const cache = useRef(new Map<string, FGNode>());
  const data = useMemo(() => {
    const g = graphAcc.graph();
    const keep = new Map<string, FGNode>();
    const nodes = g.nodes.map((n) => {
      const prev = cache.current.get(n.id);
      const node = prev ? Object.assign(prev, n) : ({ ...n } as FGNode);
      keep.set(n.id, node);
      return node;
    });
    cache.current = keep;
    return { nodes, links: g.links.map((l) => ({ ...l })) };
  }, [graphAcc, version]);

  useEffect(() => {
    // new data: wake the renderer up
    fg.current?.resumeAnimation();
    setPaused(false);
  }, [version]);

  useEffect(() => {
    const ctl = fg.current?.controls() as { autoRotate?: boolean; autoRotateSpeed?: number } | undefined;
    if (ctl) {
      ctl.autoRotate = true;
      ctl.autoRotateSpeed = 1.2;
    }
  });

  // test hook (tests/browser/detail.mjs): where each node is drawn, in page pixels, so a check can
  // click a given candidate; and which node the pointer is over (data-hover), set by the graph itself
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const hud = (window.__hud ??= {});
    hud.constellation = {
      nodes: () => {
        const g = fg.current;
        const canvas = box.current?.querySelector("canvas");
        if (!g || !canvas) return [];
        const rect = canvas.getBoundingClientRect();
        return data.nodes
          .filter((n) => n.x != null && n.y != null && n.z != null)
          .map((n) => {
            const p = g.graph2ScreenCoords(n.x!, n.y!, n.z!);
            return { id: n.id, kind: n.kind, label: n.label, x: rect.left + p.x, y: rect.top + p.y };
          });
      },
    };
    return () => {
      delete hud.constellation;
    };
  }, [data]);

  const nodeCount = useRef(0);
  nodeCount.current = data.nodes.length;
  const onEngineStop = useCallback(() => {
    // fitting one or two nodes would fill the panel with a single sphere: keep a fixed distance
    if (nodeCount.current >= 6) fg.current?.zoomToFit(0, 4);
    else fg.current?.cameraPosition({ x: 0, y: 0, z: 160 });
    requestAnimationFrame(() => {
      fg.current?.pauseAnimation();
      setPaused(true);
    });
  }, []);

  return (
    <div
      ref={box}
      className="relative"
      style={{ width, height }}
      data-testid="constellation"
      data-nodes={data.nodes.length}
      data-idle={paused ? "1" : "0"}
      onPointerEnter={() => {
        fg.current?.resumeAnimation();
        setPaused(false);
      }}
    >
      <ForceGraph3D
        ref={fg}
        width={width}
        height={height}
        graphData={data}
        backgroundColor="rgba(0,0,0,0)"
        showNavInfo={false}
        nodeId="id"
        nodeLabel={nodeLabel}
        nodeColor={nodeColorOf}
        nodeVal={nodeVal}
        nodeOpacity={0.95}
        nodeRelSize={6}
        nodeResolution={8}
        linkColor={linkColor}
        linkOpacity={0.5}
        linkWidth={0}
        linkDirectionalParticles={linkParticles}
        linkDirectionalParticleWidth={1.2}
        linkDirectionalParticleColor={particleColor}
        enableNodeDrag={false}
        onNodeHover={(n: object | null) => {
          if (box.current) box.current.dataset.hover = n ? (n as FGNode).id : "";
        }}
        onNodeClick={(n: object) => {
          const g = n as FGNode;
          if (g.kind === "candidate" && onPick) onPick(g.id.replace(/^cand:/, ""));
        }}
        warmupTicks={20}
        cooldownTicks={120}
        onEngineStop={() => {
          fg.current?.zoomToFit(300, 4);
          setTimeout(() => {
            fg.current?.pauseAnimation();
            setPaused(true);
          }, 600);
        }}
        rendererConfig={RENDERER_CONFIG}
      />
      <div className="absolute left-2 right-2 bottom-1 flex flex-wrap gap-x-3 gap-y-0 text-[10px] tracking-[0.12em] uppercase pointer-events-none">
        {(
          [
            ["exploit", COLORS.exploit],
            ["explore", COLORS.explore],
            ["pass", COLORS.passed],
            ["fail", COLORS.failed],
            ["field", COLORS.field],
            ["op", COLORS.operator],
          ] as const
        ).map(([k, c]) => (
          <span key={k} className="flex items-center gap-1 text-cyan-100/70">
            <i className="inline-block w-[6px] h-[6px] rounded-full" style={{ background: c, boxShadow: `0 0 6px ${c}` }} />
            {k}
          </span>
        ))}
      </div>
      <div className="absolute left-3 top-7 num text-[10px] text-cyan-300/50 pointer-events-none">
        {data.nodes.length} nodes{paused ? " · idle" : ""}
      </div>
    </div>
  );
}

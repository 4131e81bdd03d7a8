"use client";
import { createContext, useContext, useEffect, useRef, useSyncExternalStore } from "react";
import type { FrameListener, HudRuntime } from "@/lib/runtime";

export const RuntimeContext = createContext<HudRuntime | null>(null);

export function useRuntime(): HudRuntime {
  const rt = useContext(RuntimeContext);
  if (!rt) throw new Error("HudRuntime missing: wrap in <RuntimeContext.Provider>");
  return rt;
}

/** Re-render when the runtime's state changes (throttled to ~12/s by the runtime). */
export function useHudVersion(rt: HudRuntime): number {
  return useSyncExternalStore(rt.subscribe, rt.getVersion, rt.getVersion);
}

/** Re-render only when `select(rt)` (a primitive) changes. */
export function useHudSelector<T extends string | number | boolean | null>(rt: HudRuntime, select: (rt: HudRuntime) => T): T {
  const get = () => select(rt);
  return useSyncExternalStore(rt.subscribe, get, get);
}

/** Run `fn` every animation frame (after interpolation), for ref-driven DOM/SVG motion. */
export function useHudFrame(fn: FrameListener): void {
  const rt = useRuntime();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => rt.onFrame((dt, r) => ref.current(dt, r)), [rt]);
}

/** A text node that shows a smoothed runtime value, updated per frame without React renders. */
export function useSmoothText<T extends HTMLElement>(key: string, fmt: (v: number) => string) {
  const el = useRef<T>(null);
  const last = useRef("");
  useHudFrame((_dt, rt) => {
    const s = fmt(rt.smooth.get(key));
    if (s !== last.current && el.current) {
      el.current.textContent = s;
      last.current = s;
    }
  });
  return el;
}

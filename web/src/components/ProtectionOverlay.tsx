"use client";
/** "System Protection Activated": one element, always mounted, whose `data-state` goes
 * `shown` → `hidden` (CSS fades it): a new protection while live shows it for a few seconds, then a
 * badge stays while protection_mode holds. Never two copies (no keyed enter/exit animation). */
import { useEffect, useRef, useState } from "react";
import { useHudVersion, useRuntime } from "./runtime-context";

const SHOW_MS = 4200;

export default function ProtectionOverlay() {
  const rt = useRuntime();
  useHudVersion(rt);
  const st = rt.state;
  const seq = st.protectionSeq;
  const lastSeq = useRef(seq);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    const before = lastSeq.current;
    lastSeq.current = seq;
    if (seq <= before) {
      if (seq < before) setVisible(false); // run switch / replay rewind: not a new protection
      return;
    }
    setVisible(true);
    const id = setTimeout(() => setVisible(false), SHOW_MS);
    return () => clearTimeout(id);
  }, [seq]);
  const reason = st.protectionReason ?? "";
  const blocked = rt.reactor.core.state === "blocked";
  return (
    <>
      <div
        data-testid="protection-overlay"
        data-state={visible ? "shown" : "hidden"}
        data-seq={seq}
        aria-hidden={!visible}
        className="protection-overlay absolute inset-x-0 top-[30%] z-20 flex justify-center pointer-events-none"
      >
        <div
          className={`px-8 py-3 text-center border-y-2 border-red-500/80 max-w-full ${visible ? "blink-soft" : ""}`}
          style={{
            background: "linear-gradient(90deg, transparent, rgba(120,10,10,0.78) 15%, rgba(120,10,10,0.78) 85%, transparent)",
            boxShadow: "0 0 40px rgba(255,40,40,0.35)",
          }}
        >
          <div className="text-[clamp(15px,2vw,26px)] font-bold tracking-[0.28em] text-red-100 glow-red">
            {blocked ? "REQUEST BLOCKED · " : ""}SYSTEM PROTECTION ACTIVATED
          </div>
          <div className="num text-[12px] tracking-[0.1em] text-red-200/90 mt-1 truncate" title={reason} data-testid="protection-reason">
            {reason}
          </div>
        </div>
      </div>
      {rt.reactor.protection_mode ? (
        <div
          data-testid="protection-badge"
          className="absolute right-3 top-3 z-10 px-2 py-[2px] border border-red-500/70 bg-red-950/60 text-red-200 text-[11px] font-bold tracking-[0.2em] blink"
        >
          ⚠ PROTECTION MODE
        </div>
      ) : null}
    </>
  );
}

"use client";
/** "System Protection Activated": a blinking overlay when a fallback / protection fires, then a
 * badge while protection_mode holds. */
import { AnimatePresence, motion } from "framer-motion";
import { useEffect, useState } from "react";
import { useHudVersion, useRuntime } from "./runtime-context";

const SHOW_MS = 4200;

export default function ProtectionOverlay() {
  const rt = useRuntime();
  useHudVersion(rt);
  const st = rt.state;
  const seq = st.protectionSeq;
  const [shownSeq, setShownSeq] = useState(seq);
  const [visible, setVisible] = useState(false);
  useEffect(() => {
    if (seq === shownSeq) return;
    setShownSeq(seq);
    if (seq < shownSeq) return; // run switch / replay rewind: not a new protection
    setVisible(true);
    const id = setTimeout(() => setVisible(false), SHOW_MS);
    return () => clearTimeout(id);
  }, [seq, shownSeq]);
  const reason = st.protectionReason ?? rt.reactor.protection?.reason ?? "";
  const blocked = rt.reactor.core.state === "blocked";
  return (
    <>
      <AnimatePresence>
        {visible ? (
          <motion.div
            key={`p${shownSeq}`}
            data-testid="protection-overlay"
            className="absolute inset-x-0 top-[34%] z-20 flex justify-center pointer-events-none"
            initial={{ opacity: 0, scaleY: 0.2 }}
            animate={{ opacity: 1, scaleY: 1 }}
            exit={{ opacity: 0, scaleY: 0.1, transition: { duration: 0.25 } }}
            transition={{ duration: 0.18 }}
          >
            <motion.div
              className="px-8 py-3 text-center border-y-2 border-red-500/80"
              style={{
                background: "linear-gradient(90deg, transparent, rgba(120,10,10,0.78) 15%, rgba(120,10,10,0.78) 85%, transparent)",
                boxShadow: "0 0 40px rgba(255,40,40,0.35)",
              }}
              animate={{ opacity: [1, 0.35, 1] }}
              transition={{ duration: 0.6, repeat: Infinity, ease: "linear" }}
            >
              <div className="text-[26px] font-bold tracking-[0.32em] text-red-100 glow-red">
                {blocked ? "REQUEST BLOCKED · " : ""}SYSTEM PROTECTION ACTIVATED
              </div>
              <div className="num text-[12px] tracking-[0.1em] text-red-200/90 mt-1">{reason}</div>
            </motion.div>
          </motion.div>
        ) : null}
      </AnimatePresence>
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

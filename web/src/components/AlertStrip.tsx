"use client";
/** Budget alerts (`reactor.alerts`, from `budget.threshold_crossed`): the newest two, loudest colour
 * for the highest threshold; every figure is the server's (lib/alerts.ts only prints them). */
import { alertLevel, alertText, newestAlerts } from "@/lib/alerts";
import { useHudVersion, useRuntime } from "./runtime-context";

const SHOWN = 2;
const TONE = {
  high: "border-red-500/80 text-red-200",
  mid: "border-amber-400/80 text-amber-200",
  low: "border-cyan-400/60 text-cyan-200/90",
} as const;

export default function AlertStrip() {
  const rt = useRuntime();
  useHudVersion(rt);
  const alerts = rt.reactor.alerts ?? [];
  if (!alerts.length) return null;
  return (
    <div className="mt-1 flex flex-col gap-[2px] min-w-0" data-testid="budget-alerts" data-count={alerts.length}>
      {newestAlerts(alerts, SHOWN).map((a) => (
        <div
          key={a.event_id}
          data-testid="budget-alert"
          data-scope={a.scope}
          data-threshold={a.threshold}
          className={`num text-[10px] leading-[13px] truncate pl-1 border-l-2 bg-[rgba(3,10,20,0.55)] ${TONE[alertLevel(a)]}`}
        >
          ⚠ budget · {alertText(a)}
        </div>
      ))}
      {alerts.length > SHOWN ? <div className="num text-[9px] text-cyan-300/50">+{alerts.length - SHOWN} earlier</div> : null}
    </div>
  );
}

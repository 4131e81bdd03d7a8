/** Words the HUD shows for the server's identifiers: no internal event name reaches the screen. */

const SCOPES: Record<string, string> = {
  batch: "batch",
  expansion: "expansion reserve",
  day: "day",
  week: "week",
  money_day: "money/day",
  money_week: "money/week",
  lane_exploit: "exploit lane",
  lane_explore: "explore lane",
  request: "request",
  request_prompt: "request prompt",
  request_completion: "request completion",
};

/** `lane_exploit` → "exploit lane", unknown scopes with underscores as spaces. */
export function scopeLabel(scope: string | null | undefined): string {
  if (!scope) return "";
  return SCOPES[scope] ?? scope.replace(/_/g, " ");
}

const PROTECTIONS: Record<string, string> = {
  "budget.fallback_applied": "Top-K fallback",
  "budget.blocked": "Request blocked",
  "budget.explore_floor_preserved": "Explore floor preserved",
};

/** The overlay's second line: what the budget did and why (server's reason). */
export function protectionLabel(lastEvent: string | null | undefined, reason: string | null | undefined): string {
  const what = (lastEvent && PROTECTIONS[lastEvent]) || "Budget protection";
  return reason ? `${what} · ${reason}` : what;
}

/** Run statuses as words. */
export function statusLabel(status: string): string {
  return status === "waiting" ? "waiting for the server" : status;
}

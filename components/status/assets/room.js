// An event's waiting room as a buyer meets it on the status page: take a
// place, watch its position and wait, and come back with the pass to buy with.
"use strict";

/**
 * The pass the event's open waiting room gives the signed-in buyer once their
 * turn comes (`showPlace` sees each place while waiting, then null); null at
 * once when the event has no open room.
 */
async function waitingRoomPass(eventId, showPlace) {
  const room = await fetch(`/api/tickets/events/${eventId}/waiting-room`)
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  if (!room || !room.open) return null;
  let place = await api("POST", `/api/tickets/events/${eventId}/waiting-room/visitors`);
  while (place.status === "waiting") {
    showPlace(place);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, Math.max(1000, place.wait_seconds * 500))));
    place = await api("GET", `/api/tickets/events/${eventId}/waiting-room/visitors/me`);
  }
  showPlace(null);
  if (place.status !== "admitted") throw new Error("Your turn in the waiting room has passed.");
  return place.pass;
}

/** Where the buyer stands, in words: "Number 12 in the queue, about 30 s to wait." */
function describePlace(place) {
  const where = place.position ? `Number ${place.position} in the queue` : "In the waiting room until the on-sale draw";
  return `${where}, about ${place.wait_seconds} s to wait.`;
}

// The tickets a buyer just bought, as the QR symbols a door scans, and the
// order's tickets as a PDF. The symbols come from the API with the buyer's
// token, so they are shown as data: URLs (the page loads images from nowhere else).
"use strict";

async function authorizedFetch(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${session.token()}` } });
  if (!response.ok) throw new Error(`The ticket could not be drawn (${response.status}).`);
  return response;
}

/** Shows each ticket of `order` as its QR symbol in `container`, and offers the PDF. */
async function showPasses(order, container, pdfButton) {
  container.replaceChildren();
  for (const ticket of order.tickets) {
    const svg = await (await authorizedFetch(`/api/tickets/${ticket.code}/qr`)).text();
    const image = document.createElement("img");
    image.src = `data:image/svg+xml;base64,${btoa(svg)}`;
    image.alt = `QR code of ticket ${ticket.code}`;
    image.width = image.height = 160;
    image.dataset.code = ticket.code;
    container.append(image);
  }
  pdfButton.hidden = false;
  pdfButton.onclick = async () => {
    const pdf = await (await authorizedFetch(`/api/tickets/orders/${order.id}/pdf`)).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(pdf);
    link.download = `tickets-${order.id}.pdf`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  };
}

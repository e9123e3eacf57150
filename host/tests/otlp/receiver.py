"""An OTLP/HTTP receiver for the tests: decodes what it is sent with the official
OpenTelemetry protobuf definitions (the `opentelemetry-proto` package) and writes
one JSON line per span, or per metric, to the file it is given.

usage: receiver.py ADDRESS:PORT OUTPUT_FILE [--later]

With --later it only keeps what it is sent, and decodes it when terminated, so
that a benchmark's load does not share the machine with the decoding.
"""

import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def attributes(key_values):
    return {kv.key: getattr(kv.value, kv.value.WhichOneof("value")) for kv in key_values}


def spans(body):
    request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "signal": "span",
                    "service": resource.get("service.name"),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "status": span.status.code,
                    "attributes": attributes(span.attributes),
                }


def points(metric):
    kind = metric.WhichOneof("data")
    for point in getattr(metric, kind).data_points:
        value = point.count if kind in ("histogram", "exponential_histogram") else getattr(point, point.WhichOneof("value"))
        yield kind, attributes(point.attributes), value


def metrics(body):
    request = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for kind, labels, value in points(metric):
                    yield {"signal": "metric", "name": metric.name, "kind": kind, "attributes": labels, "value": value}


DECODERS = {
    "/v1/traces": (spans, trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": (metrics, metrics_service_pb2.ExportMetricsServiceResponse),
}


def write(decode, body):
    with open(OUTPUT, "a", encoding="utf-8") as output:
        for record in decode(body):
            output.write(json.dumps(record) + "\n")


def decode_kept_and_exit(*_):
    for decode, body in KEPT:
        write(decode, body)
    sys.exit(0)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        decoder = DECODERS.get(self.path)
        if decoder is None or self.headers.get("content-type") != "application/x-protobuf":
            self.send_response(404 if decoder is None else 415)
            self.end_headers()
            return
        decode, response = decoder
        if LATER:
            KEPT.append((decode, body))
        else:
            write(decode, body)
        answer = response().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    host, port = sys.argv[1].rsplit(":", 1)
    OUTPUT = sys.argv[2]
    LATER = "--later" in sys.argv[3:]
    KEPT = []
    signal.signal(signal.SIGTERM, decode_kept_and_exit)
    server = ThreadingHTTPServer((host, int(port)), Receiver)
    print("listening", flush=True)
    server.serve_forever()

"""Names Kubernetes accepts: a model name is a DNS label (RFC 1123), and so is a namespace."""

from __future__ import annotations

import re

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS_LABEL_MAX = 63


def is_dns_label(name: object) -> bool:
    return isinstance(name, str) and len(name) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(name))

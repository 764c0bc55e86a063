"""WS-Management ([MS-WSMV]) for the PowerShell resource URI: the SOAP envelope in, the SOAP envelope out.

The shell operations a PowerShell remoting client uses: Create (a runspace pool, its creationXml holding the
SessionCapability and InitRunspacePool fragments), Command (a pipeline, its CreatePipeline fragments in
<rsp:Arguments>), Send (more fragments: stdin, or pr for host responses), Receive (stdout fragments; a long poll
that answers the w:TimedOut fault when nothing came within OperationTimeout, as Windows does), Signal (terminate,
ctrl_c) and Delete (close the runspace pool). Plus Get of a shell (RunspacePool.is_alive) and of the service's
config (WSMan.update_max_payload_size). Anything else is a WS-Management fault.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clusterstack.simulator.winrm.commands import PowerShellHost
from clusterstack.simulator.winrm.psrp_session import PSRPError, RunspacePoolSession

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "xml": "http://www.w3.org/XML/1998/namespace",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wsmv": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "wsmanfault": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
for _prefix, _uri in NS.items():
    if _prefix != "xml":
        ET.register_namespace(_prefix, _uri)

POWERSHELL_URI = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
COMMAND_STATE = SHELL + "CommandState/"
MAX_ENVELOPE_SIZE_KB = 500


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


class WSManFault(Exception):
    """A WS-Management fault: the SOAP fault with a wsmanfault:WSManFault detail, HTTP 500."""

    def __init__(self, code: int, subcode: str, reason: str, *, value: str = "s:Receiver") -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.value = value


def timed_out() -> WSManFault:
    return WSManFault(2150858793, "w:TimedOut",
                      "The WS-Management service cannot complete the operation within the time specified in "
                      "OperationTimeout.")


def shell_not_found(shell_id: str) -> WSManFault:
    return WSManFault(2150858843, "w:InvalidSelectors",
                      f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was "
                      "not found on the server. Possible causes are: the specified ShellId is incorrect or the shell "
                      "no longer exists on the server. Provide the correct ShellId or create a new shell and retry "
                      "the operation.", value="s:Sender")


def invalid(reason: str) -> WSManFault:
    return WSManFault(2150858817, "w:SchemaValidationError",
                      f"The SOAP XML in the message does not match the corresponding XML schema definition. {reason}",
                      value="s:Sender")


@dataclass
class Request:
    action: str
    resource_uri: str
    message_id: str
    selectors: dict[str, str]
    options: dict[str, str]
    operation_timeout: float
    max_envelope_size: int
    locale: str
    body: ET.Element


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str | None, default: float) -> float:
    match = _DURATION.match((text or "").strip())
    if not text or match is None:
        return default
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def parse_request(data: bytes) -> Request:
    try:
        envelope = ET.fromstring(data)
    except ET.ParseError as exc:
        raise invalid(str(exc)) from None
    header = envelope.find("s:Header", NS)
    body = envelope.find("s:Body", NS)
    if envelope.tag != _q("s", "Envelope") or header is None or body is None:
        raise invalid("The message is not a SOAP 1.2 envelope with a header and a body.")

    def text(path: str) -> str:
        element = header.find(path, NS)
        return (element.text or "").strip() if element is not None else ""

    selectors = {e.get("Name", ""): (e.text or "") for e in header.findall("wsman:SelectorSet/wsman:Selector", NS)}
    options = {e.get("Name", ""): (e.text or "") for e in header.findall("wsman:OptionSet/wsman:Option", NS)}
    locale = header.find("wsman:Locale", NS)
    try:
        max_envelope = int(text("wsman:MaxEnvelopeSize") or 153600)
    except ValueError:
        raise invalid("MaxEnvelopeSize is not a number.") from None
    return Request(action=text("wsa:Action"), resource_uri=text("wsman:ResourceURI"),
                   message_id=text("wsa:MessageID"), selectors=selectors, options=options,
                   operation_timeout=parse_duration(text("wsman:OperationTimeout"), 60.0),
                   max_envelope_size=max(max_envelope, 8192),
                   locale=(locale.get(_q("xml", "lang")) or "en-US") if locale is not None else "en-US", body=body)


def _envelope(action: str, relates_to: str | None) -> tuple[ET.Element, ET.Element]:
    envelope = ET.Element(_q("s", "Envelope"))
    header = ET.SubElement(envelope, _q("s", "Header"))
    ET.SubElement(header, _q("wsa", "Action")).text = action
    ET.SubElement(header, _q("wsa", "MessageID")).text = f"uuid:{str(uuid.uuid4()).upper()}"
    ET.SubElement(header, _q("wsa", "To")).text = ANONYMOUS
    if relates_to:
        ET.SubElement(header, _q("wsa", "RelatesTo")).text = relates_to
    body = ET.SubElement(envelope, _q("s", "Body"))
    return envelope, body


def _bytes(envelope: ET.Element) -> bytes:
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=False)


def fault_envelope(fault: WSManFault, relates_to: str | None, machine: str, locale: str = "en-US") -> bytes:
    envelope, body = _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to)
    soap_fault = ET.SubElement(body, _q("s", "Fault"))
    code = ET.SubElement(soap_fault, _q("s", "Code"))
    ET.SubElement(code, _q("s", "Value")).text = fault.value
    subcode = ET.SubElement(code, _q("s", "Subcode"))
    ET.SubElement(subcode, _q("s", "Value")).text = fault.subcode
    reason = ET.SubElement(soap_fault, _q("s", "Reason"))
    ET.SubElement(reason, _q("s", "Text"), {_q("xml", "lang"): locale}).text = fault.reason + " "
    detail = ET.SubElement(soap_fault, _q("s", "Detail"))
    wsman_fault = ET.SubElement(detail, _q("wsmanfault", "WSManFault"), {"Code": str(fault.code), "Machine": machine})
    ET.SubElement(wsman_fault, _q("wsmanfault", "Message")).text = fault.reason + " "
    return _bytes(envelope)


@dataclass
class Shell:
    shell_id: str
    owner: str
    client_ip: str
    session: RunspacePoolSession
    idle_timeout: str = "PT7200.000S"
    commands: set[str] = field(default_factory=set)


class WSManService:
    """The shells of one endpoint (a node, or the cluster's network name) and the operations on them."""

    def __init__(self, endpoint: str, machine: str, open_host: Callable[[str, str], PowerShellHost]) -> None:
        self.endpoint = endpoint  # the name the host factory is given: the node's or the cluster's name
        self.machine = machine  # the name in faults (Machine="...")
        self._open_host = open_host
        self.shells: dict[str, Shell] = {}

    def close(self) -> None:
        """Drop every shell (the machine went down)."""
        for shell in self.shells.values():
            shell.session.close()
        self.shells.clear()

    async def handle(self, data: bytes, user: str, client_ip: str, address: str) -> tuple[int, bytes]:
        """(HTTP status, SOAP envelope) for one request of the authenticated `user`."""
        relates_to = None
        locale = "en-US"
        try:
            request = parse_request(data)
            relates_to = request.message_id or None
            locale = request.locale
            return 200, await self._dispatch(request, user, client_ip, address)
        except WSManFault as fault:
            return 500, fault_envelope(fault, relates_to, self.machine, locale)

    async def _dispatch(self, request: Request, user: str, client_ip: str, address: str) -> bytes:
        action = request.action
        if action == TRANSFER + "Get":
            return self._get(request, user)
        if request.resource_uri.lower() != POWERSHELL_URI.lower():
            raise WSManFault(2150858811, "w:DestinationUnreachable",
                             f"The WS-Management service cannot process the request. The resource URI "
                             f"({request.resource_uri}) was not found in the WS-Management catalog.",
                             value="s:Sender")
        if action == TRANSFER + "Create":
            return self._create(request, user, client_ip, address)
        shell = self._shell(request, user)
        if action == SHELL + "Receive":
            return await self._receive(request, shell)
        if action == SHELL + "Command":
            return self._command(request, shell)
        if action == SHELL + "Send":
            return self._send(request, shell)
        if action == SHELL + "Signal":
            return self._signal(request, shell)
        if action == TRANSFER + "Delete":
            shell.session.close()
            self.shells.pop(shell.shell_id, None)
            envelope, _ = _envelope(TRANSFER + "DeleteResponse", request.message_id)
            return _bytes(envelope)
        raise WSManFault(2150858770, "w:ActionNotSupported",
                         f"The WS-Management service cannot process the request because the action {action!r} is "
                         "not supported for this resource.", value="s:Sender")

    # ---- the operations --------------------------------------------------------------------------------------

    def _shell(self, request: Request, user: str) -> Shell:
        shell_id = request.selectors.get("ShellId", "")
        shell = self.shells.get(shell_id.upper())
        if shell is None:
            raise shell_not_found(shell_id)
        if shell.owner.lower() != user.lower():
            raise WSManFault(5, "w:AccessDenied", "Access is denied.", value="s:Sender")
        return shell

    def _create(self, request: Request, user: str, client_ip: str, address: str) -> bytes:
        shell_element = request.body.find("rsp:Shell", NS)
        if shell_element is None:
            raise invalid("Create needs an rsp:Shell.")
        creation = shell_element.find("pwsh:creationXml", NS)
        if creation is None or not (creation.text or "").strip():
            raise invalid("A PowerShell shell needs its creationXml.")
        try:
            data = base64.b64decode(creation.text or "", validate=True)
        except (binascii.Error, ValueError):
            raise invalid("The creationXml is not base64.") from None
        shell_id = (shell_element.get("ShellId") or str(uuid.uuid4())).upper()
        if shell_id in self.shells:
            raise WSManFault(2150858780, "w:AlreadyExists", f"The shell {shell_id} exists already.", value="s:Sender")
        idle = shell_element.find("rsp:IdleTimeOut", NS)
        fragment_size = (request.max_envelope_size - 4096) * 3 // 4
        session = RunspacePoolSession(shell_id, self._open_host(self.endpoint, user), fragment_size)
        try:
            session.receive(data)
        except PSRPError as exc:
            session.close()
            raise invalid(f"The creationXml is not a PowerShell runspace pool: {exc}") from None
        shell = Shell(shell_id, user, client_ip, session)
        if idle is not None and idle.text:
            shell.idle_timeout = f"PT{parse_duration(idle.text, 7200.0):.3f}S"
        self.shells[shell_id] = shell

        envelope, body = _envelope(TRANSFER + "CreateResponse", request.message_id)
        created = ET.SubElement(body, _q("wst", "ResourceCreated"))
        ET.SubElement(created, _q("wsa", "Address")).text = address
        reference = ET.SubElement(created, _q("wsa", "ReferenceParameters"))
        ET.SubElement(reference, _q("wsman", "ResourceURI")).text = POWERSHELL_URI
        selectors = ET.SubElement(reference, _q("wsman", "SelectorSet"))
        ET.SubElement(selectors, _q("wsman", "Selector"), {"Name": "ShellId"}).text = shell_id
        body.append(self._shell_info(shell))
        return _bytes(envelope)

    def _shell_info(self, shell: Shell) -> ET.Element:
        info = ET.Element(_q("rsp", "Shell"))
        for name, value in (("ShellId", shell.shell_id), ("Name", "Runspace1"), ("ResourceUri", POWERSHELL_URI),
                            ("Owner", shell.owner), ("ClientIP", shell.client_ip),
                            ("IdleTimeOut", shell.idle_timeout), ("InputStreams", "stdin pr"),
                            ("OutputStreams", "stdout"), ("ShellRunTime", "P0DT0H0M0S"),
                            ("ShellInactivity", "P0DT0H0M0S")):
            ET.SubElement(info, _q("rsp", name)).text = value
        return info

    def _get(self, request: Request, user: str) -> bytes:
        envelope, body = _envelope(TRANSFER + "GetResponse", request.message_id)
        if request.resource_uri.lower() == SHELL_URI.lower():
            body.append(self._shell_info(self._shell(request, user)))
        elif request.resource_uri.lower() == CONFIG_URI.lower():
            config = ET.SubElement(body, _q("cfg", "Config"))
            ET.SubElement(config, _q("cfg", "MaxEnvelopeSizekb")).text = str(MAX_ENVELOPE_SIZE_KB)
            ET.SubElement(config, _q("cfg", "MaxTimeoutms")).text = "60000"
        else:
            raise WSManFault(2150858811, "w:DestinationUnreachable",
                             f"The WS-Management service cannot process the request. The resource URI "
                             f"({request.resource_uri}) was not found in the WS-Management catalog.",
                             value="s:Sender")
        return _bytes(envelope)

    def _command(self, request: Request, shell: Shell) -> bytes:
        line = request.body.find("rsp:CommandLine", NS)
        if line is None:
            raise invalid("Command needs an rsp:CommandLine.")
        command_id = (line.get("CommandId") or str(uuid.uuid4())).upper()
        data = b"".join(_base64(e.text) for e in line.findall("rsp:Arguments", NS))
        try:
            shell.session.create_pipeline(command_id, data)
        except PSRPError as exc:
            raise invalid(f"The command is not a PowerShell pipeline: {exc}") from None
        shell.commands.add(command_id)
        envelope, body = _envelope(SHELL + "CommandResponse", request.message_id)
        response = ET.SubElement(body, _q("rsp", "CommandResponse"))
        ET.SubElement(response, _q("rsp", "CommandId")).text = command_id
        return _bytes(envelope)

    def _send(self, request: Request, shell: Shell) -> bytes:
        send = request.body.find("rsp:Send", NS)
        if send is None:
            raise invalid("Send needs an rsp:Send.")
        for stream in send.findall("rsp:Stream", NS):
            command_id = stream.get("CommandId")
            if command_id and not shell.session.has_pipeline(command_id):
                raise _command_not_found(command_id)
            try:
                shell.session.receive(_base64(stream.text))
            except PSRPError as exc:
                raise invalid(f"The input is not PowerShell remoting data: {exc}") from None
        envelope, body = _envelope(SHELL + "SendResponse", request.message_id)
        ET.SubElement(body, _q("rsp", "SendResponse"))
        return _bytes(envelope)

    def _signal(self, request: Request, shell: Shell) -> bytes:
        signal = request.body.find("rsp:Signal", NS)
        code = signal.find("rsp:Code", NS) if signal is not None else None
        if signal is None or code is None:
            raise invalid("Signal needs an rsp:Signal with its rsp:Code.")
        command_id = (signal.get("CommandId") or "").upper()
        if not shell.session.has_pipeline(command_id):
            raise _command_not_found(command_id)
        shell.session.signal(command_id, (code.text or "").strip())
        if (code.text or "").strip().lower().endswith("terminate"):
            shell.commands.discard(command_id)
        envelope, body = _envelope(SHELL + "SignalResponse", request.message_id)
        ET.SubElement(body, _q("rsp", "SignalResponse"))
        return _bytes(envelope)

    async def _receive(self, request: Request, shell: Shell) -> bytes:
        receive = request.body.find("rsp:Receive", NS)
        desired = receive.find("rsp:DesiredStream", NS) if receive is not None else None
        if desired is None:
            raise invalid("Receive needs an rsp:DesiredStream.")
        command_id = (desired.get("CommandId") or "").upper() or None
        if command_id is not None and not shell.session.has_pipeline(command_id):
            raise _command_not_found(command_id)
        budget = (request.max_envelope_size - 2048) * 3 // 4
        try:
            taken = await shell.session.take(command_id, request.operation_timeout, budget)
        except PSRPError:
            raise _command_not_found(command_id or "") from None
        if taken is None:
            raise timed_out()
        chunks, done = taken
        envelope, body = _envelope(SHELL + "ReceiveResponse", request.message_id)
        response = ET.SubElement(body, _q("rsp", "ReceiveResponse"))
        attributes: dict[str, Any] = {"Name": "stdout"}
        if command_id is not None:
            attributes["CommandId"] = command_id
        for chunk in chunks:
            ET.SubElement(response, _q("rsp", "Stream"), attributes).text = base64.b64encode(chunk).decode()
        if command_id is not None:
            state = "Done" if done else "Running"
            ET.SubElement(response, _q("rsp", "CommandState"),
                          {"CommandId": command_id, "State": COMMAND_STATE + state})
        return _bytes(envelope)


def _base64(text: str | None) -> bytes:
    try:
        return base64.b64decode((text or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise invalid("A stream is not base64.") from None


def _command_not_found(command_id: str) -> WSManFault:
    return WSManFault(2150858843, "w:InvalidSelectors",
                      f"The request for the Windows Remote Shell command with CommandId {command_id} failed because "
                      "the command was not found on the server.", value="s:Sender")

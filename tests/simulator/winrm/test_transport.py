"""The real pypsrp client against the simulator's WinRM listener: HTTPS, HTTP with NTLM message encryption, PSRP."""

from __future__ import annotations

import pytest
import requests
from pypsrp.client import Client
from pypsrp.complex_objects import PSInvocationState
from pypsrp.exceptions import AuthenticationError
from pypsrp.powershell import PowerShell, RunspacePool

from tests.simulator.winrm.conftest import PASSWORD, USER, Endpoint


def _things(endpoint: Endpoint, *, secure: bool) -> list:
    with endpoint.wsman(secure=secure) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Thing").add_parameter("Name", ["vm1", "vm2"]).add_parameter("Force")
        ps.add_argument("positional")
        output = ps.invoke()
        assert ps.state == PSInvocationState.COMPLETED
        assert not ps.had_errors
        assert ps.streams.error == []
        return output


@pytest.mark.parametrize("secure", [True, False], ids=["https", "http-encrypted"])
def test_a_pipeline_returns_objects_whose_properties_read_back(endpoint: Endpoint, secure: bool) -> None:
    output = _things(endpoint, secure=secure)

    assert [o.extended_properties["Name"] for o in output] == ["vm1", "vm2"]
    first = output[0]
    assert first.types[0] == "System.Management.Automation.PSCustomObject"
    assert first.extended_properties["Size"] == 1 << 40
    assert first.extended_properties["Priority"] == 2000
    # Depth 1: a complex property arrives as its ToString(); a list of primitives stays a list.
    assert first.extended_properties["Owner"] == "node0"
    assert first.extended_properties["Tags"] == ["a", "b"]
    assert first.extended_properties["Switch"] is True
    assert first.extended_properties["Arguments"] == ["positional"]
    # One host per runspace pool, opened for the endpoint by the authenticated user.
    assert [(h.endpoint, h.username) for h in endpoint.factory.hosts] == [("HYPERVCLLOUD13", USER)]
    assert first.extended_properties["User"] == USER
    (statement,) = endpoint.factory.hosts[0].runs[0]
    assert statement[0].name == "Get-Thing"
    assert statement[0].parameters == {"Name": ["vm1", "vm2"], "Force": True}
    assert statement[0].arguments == ("positional",)


def test_a_non_terminating_error_arrives_in_the_error_stream_and_the_pipeline_completes(endpoint: Endpoint) -> None:
    with endpoint.wsman() as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Partly")
        output = ps.invoke()

    assert output == ["found"]
    assert ps.state == PSInvocationState.COMPLETED
    assert ps.had_errors is False  # pypsrp sets had_errors for a Failed pipeline only, as with Windows
    (error,) = ps.streams.error
    assert str(error) == 'Hyper-V was unable to find a virtual machine with name "ghost".'
    assert error.fq_error == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM"
    assert error.category == 13
    assert error.reason == "VirtualizationException"
    assert error.activity == "Get-Partly"
    assert error.target_name == "ghost"
    assert error.target_type == "String"
    assert error.target_object == "ghost"
    assert error.message == "ObjectNotFound: (ghost:String) [Get-Partly], VirtualizationException"
    assert error.exception.types[0] == "Microsoft.HyperV.PowerShell.VirtualizationException"
    assert error.exception.adapted_properties["Message"] == str(error)


def test_a_terminating_error_fails_the_pipeline_with_its_error_record(endpoint: Endpoint) -> None:
    with endpoint.wsman() as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-ClusterGroup").add_parameter("Name", "ghost")
        output = ps.invoke()

        assert output == []
        assert ps.state == PSInvocationState.FAILED
        assert ps.had_errors is True
        (error,) = ps.streams.error
        assert str(error) == "The cluster group 'ghost' was not found."
        assert error.fq_error == "Get-ClusterGroup,Microsoft.FailoverClusters.PowerShell.GetClusterGroupCommand"
        assert error.reason == "ClusterCmdletException"
        assert error.category == 13

        # The pool is still usable: the next pipeline runs.
        again = PowerShell(pool)
        again.add_cmdlet("Get-Thing")
        assert len(again.invoke()) == 2


def test_statements_run_in_one_pipeline(endpoint: Endpoint) -> None:
    with endpoint.wsman() as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Thing").add_parameter("Name", "a").add_statement()
        ps.add_cmdlet("Get-Thing").add_parameter("Name", "b")
        output = ps.invoke()

    assert [o.extended_properties["Name"] for o in output] == ["a", "b"]
    statements = endpoint.factory.hosts[0].runs[0]
    assert [[c.name for c in s] for s in statements] == [["Get-Thing"], ["Get-Thing"]]


def test_a_script_is_refused_as_a_command_nobody_knows(endpoint: Endpoint) -> None:
    with endpoint.wsman() as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_script("Get-Thing | Remove-Everything")
        assert ps.invoke() == []

    assert ps.state == PSInvocationState.FAILED
    assert ps.had_errors is True
    (error,) = ps.streams.error
    assert str(error).startswith("The term 'Get-Thing | Remove-Everything' is not recognized as the name of a cmdlet")
    assert error.fq_error == "CommandNotFoundException"
    assert error.reason == "CommandNotFoundException"
    assert endpoint.factory.hosts[0].runs == []


def test_pypsrp_client_execute_ps_reaches_the_host_as_invoke_expression(endpoint: Endpoint) -> None:
    """Client.execute_ps sends its script as Invoke-Expression -Command <script> | Out-String: a cmdlet the host
    decides about (the tests' host knows none of them)."""
    client = Client(endpoint.address, port=endpoint.https_port, username=USER, password=PASSWORD, auth="ntlm",
                    cert_validation=str(endpoint.certificate.ca_file), no_proxy=True)
    output, streams, had_errors = client.execute_ps("Get-Thing")

    assert had_errors is True
    assert output == ""
    assert str(streams.error[0]) == "The term 'Invoke-Expression' is not recognized"
    (statement,) = endpoint.factory.hosts[0].runs[0]
    assert [c.name for c in statement] == ["Invoke-Expression", "Out-String"]
    assert statement[0].parameters["Command"] == "Get-Thing"


def test_a_wrong_password_is_refused_and_opens_nothing(endpoint: Endpoint) -> None:
    for secure in (True, False):
        with endpoint.wsman(secure=secure, password="wrong") as wsman, pytest.raises(AuthenticationError):
            RunspacePool(wsman).open()
    assert endpoint.factory.hosts == []


def test_an_unknown_user_is_refused(endpoint: Endpoint) -> None:
    from pypsrp.wsman import WSMan

    wsman = WSMan(endpoint.address, port=endpoint.https_port, username="CLUSTERSTACK\\Guest", password=PASSWORD,
                  auth="negotiate", cert_validation=str(endpoint.certificate.ca_file), no_proxy=True)
    with wsman, pytest.raises(AuthenticationError):
        RunspacePool(wsman).open()
    assert endpoint.factory.hosts == []


def test_a_client_without_the_simulators_ca_refuses_its_certificate(endpoint: Endpoint) -> None:
    with endpoint.wsman(cert_validation=True) as wsman, pytest.raises(requests.exceptions.SSLError):
        RunspacePool(wsman).open()
    assert endpoint.factory.hosts == []


def test_a_closed_endpoint_refuses_connections(endpoint: Endpoint) -> None:
    wsman = endpoint.wsman()
    pool = RunspacePool(wsman)
    pool.open()
    endpoint.loop.run(endpoint.listener.close())

    ps = PowerShell(pool)
    ps.add_cmdlet("Get-Thing")
    with pytest.raises(requests.exceptions.ConnectionError):
        ps.invoke()
    with endpoint.wsman() as fresh, pytest.raises(requests.exceptions.ConnectionError):
        RunspacePool(fresh).open()

    # Opened again (the machine restarted), it answers; the old shell is gone with the machine.
    endpoint.loop.run(endpoint.listener.open())
    assert len(_things(endpoint, secure=True)) == 2


def test_a_running_pipeline_is_polled_until_stopped(endpoint: Endpoint) -> None:
    with endpoint.wsman(operation_timeout=1) as wsman, RunspacePool(wsman) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Wait-Forever")
        ps.begin_invoke()
        ps.poll_invoke()  # the Receive long-polls, then answers w:TimedOut, which pypsrp takes as "nothing yet"
        assert ps.state == PSInvocationState.RUNNING
        ps.stop()
        assert ps.state == PSInvocationState.STOPPED

        again = PowerShell(pool)
        again.add_cmdlet("Get-Thing")
        assert len(again.invoke()) == 2


def test_wsman_faults_read_as_windows_faults(endpoint: Endpoint) -> None:
    from pypsrp.exceptions import WSManFaultError
    from pypsrp.wsman import SelectorSet

    with endpoint.wsman() as wsman:
        selectors = SelectorSet()
        selectors.add_option("ShellId", "00000000-0000-0000-0000-000000000000")
        with pytest.raises(WSManFaultError) as raised:
            wsman.delete("http://schemas.microsoft.com/powershell/Microsoft.PowerShell", selector_set=selectors)
        assert raised.value.code == 2150858843
        with pytest.raises(WSManFaultError):
            wsman.enumerate("http://schemas.microsoft.com/powershell/Microsoft.PowerShell")
        wsman.update_max_payload_size()
        assert wsman.max_envelope_size == 500 * 1024


def test_plain_soap_over_http_is_refused(endpoint: Endpoint) -> None:
    with endpoint.wsman(secure=False, encryption="never") as wsman, pytest.raises(AuthenticationError):
        RunspacePool(wsman).open()
    assert endpoint.factory.hosts == []


def test_the_connection_that_authenticated_is_the_one_that_is_trusted(endpoint: Endpoint) -> None:
    import http.client
    import ssl

    context = ssl.create_default_context(cafile=str(endpoint.certificate.ca_file))
    connection = http.client.HTTPSConnection(endpoint.address, endpoint.https_port, context=context)
    connection.request("POST", "/wsman", body=b"<x/>", headers={"Content-Type": "application/soap+xml"})
    response = connection.getresponse()
    response.read()
    assert response.status == 401
    assert response.getheader("WWW-Authenticate") == "Negotiate"
    connection.request("GET", "/wsman")
    response = connection.getresponse()
    response.read()
    assert response.status == 405
    connection.request("POST", "/other")
    response = connection.getresponse()
    response.read()
    assert response.status == 404
    connection.close()

"""Each simulated node answers WinRM (WS-Management + the PowerShell Remoting Protocol) like a Windows node.

`commands.py` is the seam between the protocol (listener, WS-Management shells, PSRP runspace pools and
pipelines) and the cmdlets that run against the simulated cluster. docs/hyperv-cmdlets.md is the contract: the
cmdlets, their parameters, and the objects, property names, enum values and error records they answer with.
"""

"""The network list commands tools call while listing instances and locations, answered honestly empty.

clusterstack has no guest networking yet: no networks, public IP addresses, port forwarding, static NAT,
firewall or egress rules, security groups exist, so these lists are empty (`{}`), as CloudStack answers a list
with no matches. Apache Libcloud's `list_nodes` calls listPublicIpAddresses, listPortForwardingRules and
listIpForwardingRules beside listVirtualMachines; Ansible's and Terraform's inventories call listNetworks.
Parameters are still parsed, so a malformed one gets the usual 431. When networking arrives each command
moves to its own module and this one shrinks.
"""

from __future__ import annotations

from typing import Any

from clusterstack.server.api.context import CallContext
from clusterstack.server.api.listing import ListResponse, page_window
from clusterstack.server.api.registry import (
    ACCOUNT_SCOPE_PARAMS,
    ALL_ROLES,
    PAGING_PARAMS,
    TAGS_PARAM,
    Param,
    api_command,
    define_entity,
)

_NOT_YET = " clusterstack has no guest networking yet, so the list is always empty."

define_entity("publicipaddress", [
    ("id", "string", "public IP address id"),
    ("ipaddress", "string", "public IP address"),
    ("virtualmachineid", "string", "virtual machine id the ip address is assigned to"),
    ("zoneid", "string", "the ID of the zone the public IP address belongs to"),
    ("state", "string", "State of the ip address. Can be: Allocating, Allocated, Releasing, Reserved and Free"),
])
define_entity("portforwardingrule", [
    ("id", "string", "the ID of the port forwarding rule"),
    ("ipaddress", "string", "the public ip address for the port forwarding rule"),
    ("ipaddressid", "string", "the public ip address id for the port forwarding rule"),
    ("protocol", "string", "the protocol of the port forwarding rule"),
    ("publicport", "string", "the starting port of port forwarding rule's public port range"),
    ("publicendport", "string", "the ending port of port forwarding rule's private port range"),
    ("privateport", "string", "the starting port of port forwarding rule's private port range"),
    ("privateendport", "string", "the ending port of port forwarding rule's private port range"),
    ("virtualmachineid", "string", "the VM ID for the port forwarding rule"),
])
define_entity("ipforwardingrule", [
    ("id", "string", "the ID of the port forwarding rule"),
    ("ipaddress", "string", "the public ip address for the port forwarding rule"),
    ("protocol", "string", "the protocol of the port forwarding rule"),
    ("startport", "integer", "the start port of the rule"),
    ("endport", "integer", "the end port of the rule"),
    ("virtualmachineid", "string", "the VM ID for the port forwarding rule"),
])
define_entity("firewallrule", [
    ("id", "string", "the ID of the firewall rule"),
    ("protocol", "string", "the protocol of the firewall rule"),
    ("startport", "integer", "the starting port of firewall rule's port range"),
    ("endport", "integer", "the ending port of firewall rule's port range"),
    ("cidrlist", "string", "the cidr list to forward traffic from. Multiple entries are separated by a single "
     "comma character (,)."),
    ("state", "string", "the state of the rule"),
])
define_entity("network", [
    ("id", "string", "the id of the network"),
    ("name", "string", "the name of the network"),
    ("displaytext", "string", "the displaytext of the network"),
    ("zoneid", "string", "zone id of the network"),
    ("state", "string", "state of the network"),
    ("type", "string", "the type of the network"),
])
define_entity("securitygroup", [
    ("id", "string", "the ID of the security group"),
    ("name", "string", "the name of the security group"),
    ("description", "string", "the description of the security group"),
])


def _empty(ctx: CallContext, p: dict[str, Any], entity: str) -> ListResponse:
    page_window(ctx.db, p)  # page/pagesize are checked as for any list
    return ListResponse(entity, [], 0)


_COMMON = [Param("id", "uuid", description="lists by ID"), *ACCOUNT_SCOPE_PARAMS, *PAGING_PARAMS]


@api_command("listPublicIpAddresses", description="Lists all public IP addresses." + _NOT_YET,
             response="publicipaddress", roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("ipaddress", description="lists the specified IP address"),
                     Param("zoneid", "uuid", description="lists all public IP addresses by zone ID"),
                     Param("associatednetworkid", "uuid", description="lists all public IP addresses associated "
                           "to the network specified"),
                     Param("vlanid", "uuid", description="lists all public IP addresses by VLAN ID"),
                     Param("allocatedonly", "boolean", description="limits search results to allocated public "
                           "IP addresses"),
                     Param("forvirtualnetwork", "boolean", description="the virtual network for the IP address"),
                     Param("isstaticnat", "boolean", description="list only static NAT IP addresses"),
                     Param("issourcenat", "boolean", description="list only source NAT IP addresses"),
                     TAGS_PARAM])
def list_public_ip_addresses(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "publicipaddress")


@api_command("listPortForwardingRules", description="Lists all port forwarding rules for an IP address."
             + _NOT_YET, response="portforwardingrule", roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("ipaddressid", "uuid", description="the ID of IP address of the port forwarding "
                           "services"),
                     Param("networkid", "uuid", description="list port forwarding rules for certain network"),
                     Param("virtualmachineid", "uuid", description="list port forwarding rules of this instance"),
                     TAGS_PARAM])
def list_port_forwarding_rules(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "portforwardingrule")


@api_command("listIpForwardingRules", description="List the IP forwarding rules." + _NOT_YET,
             response="ipforwardingrule", roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("ipaddressid", "uuid", description="list the rule belonging to this public IP "
                           "address"),
                     Param("virtualmachineid", "uuid", description="Lists all rules applied to the specified "
                           "VM.")])
def list_ip_forwarding_rules(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "ipforwardingrule")


@api_command("listFirewallRules", description="Lists all firewall rules for an IP address." + _NOT_YET,
             response="firewallrule", roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("ipaddressid", "uuid", description="the ID of IP address of the firewall services"),
                     Param("networkid", "uuid", description="list firewall rules for certain network"),
                     TAGS_PARAM])
def list_firewall_rules(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "firewallrule")


@api_command("listEgressFirewallRules", description="Lists all egress firewall rules for network ID." + _NOT_YET,
             response="firewallrule", roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("networkid", "uuid", description="the network ID for the egress firewall services"),
                     TAGS_PARAM])
def list_egress_firewall_rules(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "firewallrule")


@api_command("listNetworks", description="Lists all available networks." + _NOT_YET, response="network",
             roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("zoneid", "uuid", description="the zone ID of the network"),
                     Param("type", description="the type of the network. Supported values are: isolated, l2, "
                           "shared and all"),
                     Param("traffictype", description="type of the traffic"),
                     Param("issystem", "boolean", description="true if network is system, false otherwise"),
                     Param("vpcid", "uuid", description="List networks by VPC"),
                     Param("canusefordeploy", "boolean", description="list networks available for VM deployment"),
                     TAGS_PARAM])
def list_networks(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "network")


@api_command("listSecurityGroups", description="Lists security groups." + _NOT_YET, response="securitygroup",
             roles=ALL_ROLES,
             params=[*_COMMON,
                     Param("securitygroupname", description="lists security groups by name"),
                     Param("virtualmachineid", "uuid", description="lists security groups by virtual machine id"),
                     TAGS_PARAM])
def list_security_groups(ctx: CallContext, p: dict[str, Any]) -> ListResponse:
    return _empty(ctx, p, "securitygroup")

// The crmsoap flow through a gSOAP 2.8 proxy that wsdl2h and soapcpp2 generated from the served
// WSDL. Built twice: soapcpp2 -1 with CrmSoap11BindingProxy and soapcpp2 -2 (-DCRM_SOAP12) with
// CrmSoap12BindingProxy.
//
// Usage: client LABEL ENDPOINT
// Prints "ok - LABEL ..." or "FAIL - LABEL ...: got ..., want ..." per check and
// "# readback ID VERSION add|update" for the records the driver reads back with its own client.
// Exits 1 on any failed check.
#ifdef CRM_SOAP12
#include "soapCrmSoap12BindingProxy.h"
#include "CrmSoap12Binding.nsmap"
typedef CrmSoap12BindingProxy Proxy;
#else
#include "soapCrmSoap11BindingProxy.h"
#include "CrmSoap11Binding.nsmap"
typedef CrmSoap11BindingProxy Proxy;
#endif

#include <climits>
#include <cstdio>
#include <sstream>
#include <string>

namespace {

// UTF-8 in the source: std::string holds the bytes, SOAP_C_UTFSTRING sends them as they are.
const std::string kNameAdd = "\u5F20\u4F1F \U0001F600 Zhang";
const std::string kNameUpdate = "\u674E\u5A1C \U0001F389 Li";

const char *label;
int failed;

template <typename T> std::string str(const T &v) {
	std::ostringstream s;
	s << v;
	return s.str();
}

void check(const std::string &name, bool ok, const std::string &got, const std::string &want) {
	if (ok) {
		printf("ok - %s %s\n", label, name.c_str());
	} else {
		failed++;
		printf("FAIL - %s %s: got %s, want %s\n", label, name.c_str(), got.c_str(), want.c_str());
	}
}

template <typename T> void expect_equal(const std::string &name, const T &got, const T &want) {
	check(name, got == want, str(got), str(want));
}

// The optional fields the flow never sets must come back absent (NULL), not empty.
void absent(const std::string &name, const crm__Customer *c) {
	std::string present;
	if (c->externalId) present += " externalId";
	if (c->email) present += " email";
	if (c->phone) present += " phone";
	if (c->gender) present += " gender";
	if (c->birthDate) present += " birthDate";
	if (c->company) present += " company";
	if (c->address) present += " address";
	check(name + " optional fields absent", present.empty(), present, "none");
}

// Fails the program when a call that must succeed returned an error.
bool ok(Proxy &p, const std::string &name, int rc) {
	if (rc == SOAP_OK) return true;
	std::ostringstream s;
	p.soap_stream_fault(s);
	check(name, false, "error " + str(rc) + ": " + s.str(), "a response");
	return false;
}

// The CrmFault code from the typed detail: SOAP 1.1 <detail>, SOAP 1.2 <env:Detail>.
void expect_fault(Proxy &p, const std::string &name, int rc, const std::string &code) {
	if (rc != SOAP_FAULT) {
		check(name, false, "status " + str(rc), "a SOAP fault with CrmFault code " + code);
		return;
	}
	const SOAP_ENV__Detail *d = p.soap->fault->detail ? p.soap->fault->detail : p.soap->fault->SOAP_ENV__Detail;
	std::string got = "(no CrmFault detail)";
	if (d && d->crm__CrmFault) got = soap_crm__FaultCode2s(p.soap, d->crm__CrmFault->code);
	expect_equal(name + " CrmFault code", got, code);
}

crm__CustomerData *data(Proxy &p, const std::string &name) {
	crm__CustomerData *d = soap_new_crm__CustomerData(p.soap);
	d->name = name;
	return d;
}

bool run(Proxy &p) {
	_crm__AddCustomer add;
	_crm__AddCustomerResponse added;
	add.customer = data(p, kNameAdd);
	if (!ok(p, "AddCustomer", p.AddCustomer(&add, added))) return false;
	const crm__Customer *x = added.customer;
#ifdef CRM_SOAP12
	expect_equal("SOAP version", int(p.soap->version), 2);
#else
	expect_equal("SOAP version", int(p.soap->version), 1);
#endif
	check("AddCustomer id", x->id > 0, str(x->id), "> 0");
	expect_equal("AddCustomer version", x->version, LONG64(1));
	expect_equal("AddCustomer name", x->name, kNameAdd);
	absent("AddCustomer", x);

	_crm__GetCustomer get;
	_crm__GetCustomerResponse got;
	get.id = x->id;
	if (!ok(p, "GetCustomer", p.GetCustomer(&get, got))) return false;
	expect_equal("GetCustomer name", got.customer->name, kNameAdd);
	expect_equal("GetCustomer createdAt", got.customer->createdAt, x->createdAt);
	absent("GetCustomer", got.customer);
	printf("# readback %lld 1 add\n", (long long)x->id);

	add.customer = data(p, "Update me");
	if (!ok(p, "AddCustomer", p.AddCustomer(&add, added))) return false;
	LONG64 y = added.customer->id, one = 1;
	_crm__UpdateCustomer upd;
	_crm__UpdateCustomerResponse updated;
	upd.id = y;
	upd.expectedVersion = &one;
	upd.customer = data(p, kNameUpdate);
	if (!ok(p, "UpdateCustomer", p.UpdateCustomer(&upd, updated))) return false;
	expect_equal("UpdateCustomer version", updated.customer->version, LONG64(2));
	expect_equal("UpdateCustomer name", updated.customer->name, kNameUpdate);
	absent("UpdateCustomer", updated.customer);
	printf("# readback %lld 2 update\n", (long long)y);
	upd.customer = data(p, "stale");
	expect_fault(p, "UpdateCustomer stale version", p.UpdateCustomer(&upd, updated), "CONFLICT");

	add.customer = data(p, "Delete me");
	if (!ok(p, "AddCustomer", p.AddCustomer(&add, added))) return false;
	LONG64 z = added.customer->id;
	_crm__DeleteCustomer del;
	_crm__DeleteCustomerResponse deleted;
	del.id = z;
	if (!ok(p, "DeleteCustomer", p.DeleteCustomer(&del, deleted))) return false;
	expect_equal("DeleteCustomer id", deleted.id, z);
	get.id = z;
	expect_fault(p, "GetCustomer deleted", p.GetCustomer(&get, got), "NOT_FOUND");
	get.id = LLONG_MAX;
	expect_fault(p, "GetCustomer max xs:long", p.GetCustomer(&get, got), "NOT_FOUND");
	return true;
}

} // namespace

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: client LABEL ENDPOINT\n");
		return 2;
	}
	label = argv[1];
	// SOAP_C_UTFSTRING: std::string and char* hold UTF-8. Without it gSOAP takes them as
	// Latin-1 and encodes every byte of a UTF-8 sequence again.
	Proxy p(argv[2], SOAP_C_UTFSTRING);
	run(p);
	printf("# %s: %d failed\n", label, failed);
	p.destroy();
	return failed ? 1 : 0;
}

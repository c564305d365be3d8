// The crmsoap flow through a System.Web.Services proxy that Mono's `wsdl` generated from the
// served WSDL (SOAP 1.1 or, with -protocol:SOAP12, SOAP 1.2). Compiled once per proxy.
//
// Usage: mono client.exe LABEL ENDPOINT
// Prints "ok - LABEL ..." or "FAIL - LABEL ...: got ..., want ..." per check and
// "# readback ID VERSION add|update" for the records the driver reads back with its own client.
// Exits 1 on any failed check.
using System;
using System.Web.Services.Protocols;
using System.Xml;

static class Program {
	const string Ns = "urn:crmsoap:v1";
	// Chinese (BMP) and an emoji outside the BMP (a surrogate pair in .NET strings).
	const string NameAdd = "\u5F20\u4F1F \U0001F600 Zhang";
	const string NameUpdate = "\u674E\u5A1C \U0001F389 Li";
	static string label;
	static int failed;

	static void Check(string name, bool ok, object got, object want) {
		if (ok) {
			Console.WriteLine("ok - {0} {1}", label, name);
		} else {
			failed++;
			Console.WriteLine("FAIL - {0} {1}: got {2}, want {3}", label, name, got ?? "(null)", want ?? "(null)");
		}
	}

	static void Equal(string name, object got, object want) {
		Check(name, object.Equals(got, want), got, want);
	}

	// The optional fields the flow never sets must come back absent, not empty.
	static void Absent(string name, Customer c) {
		string present = "";
		if (c.externalId != null) present += " externalId";
		if (c.email != null) present += " email";
		if (c.phone != null) present += " phone";
		if (c.genderSpecified) present += " gender";
		if (c.birthDateSpecified) present += " birthDate";
		if (c.company != null) present += " company";
		if (c.address != null) present += " address";
		Check(name + " optional fields absent", present == "", present.Trim(), "none");
	}

	// The CrmFault code read from the fault's detail: an ASMX proxy has no fault types, it
	// hands the detail element over as XML.
	static void ExpectFault(string name, Action call, string code) {
		try {
			call();
			Check(name, false, "a response", "a fault with CrmFault code " + code);
		} catch (SoapException e) {
			string got = null;
			XmlNode detail = e.Detail;
			if (detail != null) {
				XmlNode crm = detail["CrmFault", Ns];
				if (crm != null && crm["code", Ns] != null) got = crm["code", Ns].InnerText;
			}
			Equal(name + " CrmFault code", got, code);
		}
	}

	static int Main(string[] args) {
		if (args.Length != 2) {
			Console.Error.WriteLine("usage: client.exe LABEL ENDPOINT");
			return 2;
		}
		label = args[0];
		var svc = new CrmService();
		svc.Url = args[1];
		try {
			Run(svc);
		} catch (Exception e) {
			failed++;
			Console.WriteLine("FAIL - {0} unexpected {1}", label, e.ToString().Replace("\n", "\n# "));
		}
		Console.WriteLine("# {0}: {1} failed", label, failed);
		return failed == 0 ? 0 : 1;
	}

	static void Run(CrmService svc) {
		Customer x = svc.AddCustomer(new CustomerData { name = NameAdd });
		Check("AddCustomer id", x.id > 0, x.id, "> 0");
		Equal("AddCustomer version", x.version, 1L);
		Equal("AddCustomer name", x.name, NameAdd);
		Absent("AddCustomer", x);
		Customer got = svc.GetCustomer(x.id);
		Equal("GetCustomer name", got.name, NameAdd);
		Equal("GetCustomer createdAt", got.createdAt.ToUniversalTime(), x.createdAt.ToUniversalTime());
		Absent("GetCustomer", got);
		Console.WriteLine("# readback {0} 1 add", x.id);

		Customer y = svc.AddCustomer(new CustomerData { name = "Update me" });
		Customer upd = svc.UpdateCustomer(y.id, 1, true, new CustomerData { name = NameUpdate });
		Equal("UpdateCustomer version", upd.version, 2L);
		Equal("UpdateCustomer name", upd.name, NameUpdate);
		Absent("UpdateCustomer", upd);
		Console.WriteLine("# readback {0} 2 update", y.id);
		ExpectFault("UpdateCustomer stale version", () => svc.UpdateCustomer(y.id, 1, true, new CustomerData { name = "stale" }), "CONFLICT");

		Customer z = svc.AddCustomer(new CustomerData { name = "Delete me" });
		long id = z.id;
		svc.DeleteCustomer(ref id, 0, false);
		Equal("DeleteCustomer id", id, z.id);
		ExpectFault("GetCustomer deleted", () => svc.GetCustomer(z.id), "NOT_FOUND");
		ExpectFault("GetCustomer max xs:long", () => svc.GetCustomer(long.MaxValue), "NOT_FOUND");
	}
}

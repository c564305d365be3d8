// The crmsoap flow through the Qt KDSoap 1.9 classes kdwsdl2cpp generated from the served WSDL:
// CrmSoap11Binding and CrmSoap12Binding (the binding picks the SOAP version), both in one program.
//
// Usage: client ENDPOINT
// Prints "ok - LABEL ..." or "FAIL - LABEL ...: got ..., want ..." per check and
// "# readback ID VERSION add|update" for the records the driver reads back with its own client.
// Exits 1 on any failed check.
#include "crm.h"

#include <KDSoapClient/KDSoapMessage.h>
#include <QCoreApplication>
#include <QEventLoop>
#include <cstdio>
#include <limits>

namespace {

// QString from UTF-8 source text: Chinese and an emoji outside the BMP.
const QString kNameAdd = QString::fromUtf8("\u5F20\u4F1F \U0001F600 Zhang");
const QString kNameUpdate = QString::fromUtf8("\u674E\u5A1C \U0001F389 Li");

int failed;

QString str(const QString &v) { return v; }
QString str(qint64 v) { return QString::number(v); }
QString str(int v) { return QString::number(v); }

void check(const QString &label, const QString &name, bool ok, const QString &got, const QString &want) {
	if (ok) {
		printf("ok - %s %s\n", qPrintable(label), qPrintable(name));
	} else {
		failed++;
		printf("FAIL - %s %s: got %s, want %s\n", qPrintable(label), qPrintable(name), got.toUtf8().constData(),
		       want.toUtf8().constData());
	}
	fflush(stdout);
}

template <typename T> void equal(const QString &label, const QString &name, const T &got, const T &want) {
	check(label, name, got == want, str(got), str(want));
}

// The optional fields the flow never sets must come back absent, not empty.
void absent(const QString &label, const QString &name, const TNS__Customer &c) {
	QString present;
	if (c.hasValueForExternalId()) present += " externalId";
	if (c.hasValueForEmail()) present += " email";
	if (c.hasValueForPhone()) present += " phone";
	if (c.hasValueForGender()) present += " gender";
	if (c.hasValueForBirthDate()) present += " birthDate";
	if (c.hasValueForCompany()) present += " company";
	if (c.hasValueForAddress()) present += " address";
	check(label, name + " optional fields absent", present.isEmpty(), present, "none");
}

TNS__CustomerData data(const QString &name) {
	TNS__CustomerData d;
	d.setName(name);
	return d;
}

// Runs a generated job to its end and returns the CrmFault code from the reply's detail, read
// with the generated TNS__CrmFault (kdwsdl2cpp -keep-unused-types: KDSoap 1.9 does not
// generate fault detail types otherwise). The blocking calls keep the fault reply private.
QString faultCode(KDSoapJob *job) {
	QEventLoop loop;
	QObject::connect(job, &KDSoapJob::finished, &loop, &QEventLoop::quit);
	job->start();
	loop.exec();
	if (!job->isFault()) return "(no fault)";
	const KDSoapMessage reply = job->reply();
	// SOAP 1.1 <detail>, SOAP 1.2 <env:Detail>.
	KDSoapValue detail = reply.childValues().child(QLatin1String("detail"));
	if (detail.isNull()) detail = reply.childValues().child(QLatin1String("Detail"));
	const KDSoapValue crm = detail.childValues().child(QLatin1String("CrmFault"));
	if (crm.isNull()) return "(no CrmFault detail in " + job->faultAsString() + ")";
	TNS__CrmFault f;
	f.deserialize(crm);
	return f.code().serialize(QLatin1String("code")).value().toString();
}

template <typename Binding, typename UpdateJob, typename GetJob>
void run(const QString &label, const QString &endpoint, KDSoapClientInterface::SoapVersion version) {
	Binding svc;
	svc.setEndPoint(endpoint);
	equal(label, "SOAP version", int(svc.soapVersion()), int(version));
	// A call that must succeed: false (and a failed check) when it did not.
	auto ok = [&](const QString &name) {
		if (svc.lastError().isEmpty()) return true;
		check(label, name, false, svc.lastError(), "a response");
		return false;
	};

	TNS__AddCustomer add;
	add.setCustomer(data(kNameAdd));
	const TNS__Customer x = svc.addCustomer(add).customer();
	if (!ok("AddCustomer")) return;
	check(label, "AddCustomer id", x.id() > 0, str(x.id()), "> 0");
	equal(label, "AddCustomer version", x.version(), qint64(1));
	equal(label, "AddCustomer name", x.name(), kNameAdd);
	absent(label, "AddCustomer", x);

	TNS__GetCustomer get;
	get.setId(x.id());
	const TNS__Customer got = svc.getCustomer(get).customer();
	if (!ok("GetCustomer")) return;
	equal(label, "GetCustomer name", got.name(), kNameAdd);
	equal(label, "GetCustomer createdAt", got.createdAt().toString(Qt::ISODateWithMs),
	      x.createdAt().toString(Qt::ISODateWithMs));
	absent(label, "GetCustomer", got);
	printf("# readback %lld 1 add\n", (long long)x.id());

	add.setCustomer(data("Update me"));
	const qint64 y = svc.addCustomer(add).customer().id();
	if (!ok("AddCustomer")) return;
	TNS__UpdateCustomer upd;
	upd.setId(y);
	upd.setExpectedVersion(1);
	upd.setCustomer(data(kNameUpdate));
	const TNS__Customer updated = svc.updateCustomer(upd).customer();
	if (!ok("UpdateCustomer")) return;
	equal(label, "UpdateCustomer version", updated.version(), qint64(2));
	equal(label, "UpdateCustomer name", updated.name(), kNameUpdate);
	absent(label, "UpdateCustomer", updated);
	printf("# readback %lld 2 update\n", (long long)y);
	upd.setCustomer(data("stale"));
	auto *stale = new UpdateJob(&svc);
	stale->setParameters(upd);
	equal(label, "UpdateCustomer stale version CrmFault code", faultCode(stale), QString("CONFLICT"));

	add.setCustomer(data("Delete me"));
	const qint64 z = svc.addCustomer(add).customer().id();
	if (!ok("AddCustomer")) return;
	TNS__DeleteCustomer del;
	del.setId(z);
	const qint64 deleted = svc.deleteCustomer(del).id();
	if (!ok("DeleteCustomer")) return;
	equal(label, "DeleteCustomer id", deleted, z);
	get.setId(z);
	auto *gone = new GetJob(&svc);
	gone->setParameters(get);
	equal(label, "GetCustomer deleted CrmFault code", faultCode(gone), QString("NOT_FOUND"));
	get.setId(std::numeric_limits<qint64>::max());
	auto *max = new GetJob(&svc);
	max->setParameters(get);
	equal(label, "GetCustomer max xs:long CrmFault code", faultCode(max), QString("NOT_FOUND"));
}

} // namespace

int main(int argc, char **argv) {
	QCoreApplication app(argc, argv);
	if (argc != 2) {
		fprintf(stderr, "usage: client ENDPOINT\n");
		return 2;
	}
	const QString endpoint = QString::fromLocal8Bit(argv[1]);
	using namespace CrmService;
	run<CrmSoap11Binding, CrmSoap11BindingJobs::UpdateCustomerJob, CrmSoap11BindingJobs::GetCustomerJob>(
	    "kdsoap-soap11", endpoint, KDSoapClientInterface::SOAP1_1);
	printf("# kdsoap-soap11: %d failed so far\n", failed);
	run<CrmSoap12Binding, CrmSoap12BindingJobs::UpdateCustomerJob, CrmSoap12BindingJobs::GetCustomerJob>(
	    "kdsoap-soap12", endpoint, KDSoapClientInterface::SOAP1_2);
	printf("# kdsoap: %d failed\n", failed);
	return failed ? 1 : 0;
}

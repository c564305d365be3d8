#!/usr/bin/perl
# The crmsoap flow through the SOAP 1.1 interface that SOAP::WSDL 3.004's wsdl2perl generated
# from the served WSDL (prefix Crm, in the directory given with -I).
#
# Usage: perl -I GENERATED_LIB perl_client.pl LABEL ENDPOINT
# Prints "ok - LABEL ..." or "FAIL - LABEL ...: got ..., want ..." per check and
# "# readback ID VERSION add|update" for the records the driver reads back with its own client.
# Exits 1 on any failed check.
use strict;
use warnings;
use utf8;
use Encode qw(encode);
use Scalar::Util qw(blessed);
use CrmInterfaces::CrmService::CrmSoap11Port;

binmode STDOUT, ':encoding(UTF-8)';
$| = 1;

# Chinese and an emoji outside the BMP, as Perl character strings (use utf8).
my $NAME_ADD    = "\x{5F20}\x{4F1F} \x{1F600} Zhang";
my $NAME_UPDATE = "\x{674E}\x{5A1C} \x{1F389} Li";
my $MAX_LONG    = '9223372036854775807';

# Text goes to the generated client as UTF-8 bytes: SOAP::WSDL's HTTP transport dies with
# "HTTP::Message content must be bytes" on a character string (its pack('C0A*') no longer
# drops the UTF-8 flag since Perl 5.10). Responses come back as character strings.
sub wire { return encode('UTF-8', $_[0]) }

my ($label, $endpoint) = @ARGV;
die "usage: perl_client.pl LABEL ENDPOINT\n" unless defined $endpoint;
my $failed = 0;

sub check {
    my ($name, $ok, $got, $want) = @_;
    if ($ok) {
        print "ok - $label $name\n";
    } else {
        $failed++;
        $got  = '(undef)' unless defined $got;
        $want = '(undef)' unless defined $want;
        print "FAIL - $label $name: got $got, want $want\n";
    }
    return $ok;
}

sub equal {
    my ($name, $got, $want) = @_;
    return check($name, defined $got && "$got" eq "$want", $got, $want);
}

# The optional fields the flow never sets must come back absent, not empty.
sub absent {
    my ($name, $c) = @_;
    my @present = grep { defined $c->${\"get_$_"}() } qw(externalId email phone gender birthDate company address);
    return check("$name optional fields absent", !@present, "@present", 'none');
}

# A response must not be a fault: a fault object is false in boolean context.
sub response {
    my ($name, $r) = @_;
    return $r if $r;
    die "$name answered with a fault: " . (blessed $r ? $r->get_faultstring : 'nothing') . "\n";
}

# The CrmFault code from the fault's typed detail.
sub expect_fault {
    my ($name, $r, $code) = @_;
    if ($r) {
        return check($name, 0, 'a response', "a fault with CrmFault code $code");
    }
    # A CrmFaultDetail (perl/fault-typemap.pl) holding the generated CrmElements::CrmFault.
    my $detail = $r->get_detail;
    my $crm = blessed $detail && $detail->can('get_CrmFault') ? $detail->get_CrmFault : undef;
    return equal("$name CrmFault code", $crm ? $crm->get_code : "(no CrmFault detail: $r)", $code);
}

my $svc = CrmInterfaces::CrmService::CrmSoap11Port->new({ proxy => $endpoint });
eval {
    my $x = response('AddCustomer', $svc->AddCustomer({ customer => { name => wire($NAME_ADD) } }))->get_customer;
    check('AddCustomer id', $x->get_id > 0, $x->get_id, '> 0');
    equal('AddCustomer version', $x->get_version, 1);
    equal('AddCustomer name', $x->get_name, $NAME_ADD);
    absent('AddCustomer', $x);
    my $got = response('GetCustomer', $svc->GetCustomer({ id => $x->get_id }))->get_customer;
    equal('GetCustomer name', $got->get_name, $NAME_ADD);
    equal('GetCustomer createdAt', $got->get_createdAt, $x->get_createdAt);
    absent('GetCustomer', $got);
    print "# readback ", $x->get_id, " 1 add\n";

    my $y = response('AddCustomer', $svc->AddCustomer({ customer => { name => 'Update me' } }))->get_customer->get_id;
    my $upd = response('UpdateCustomer',
        $svc->UpdateCustomer({ id => "$y", expectedVersion => 1, customer => { name => wire($NAME_UPDATE) } }))->get_customer;
    equal('UpdateCustomer version', $upd->get_version, 2);
    equal('UpdateCustomer name', $upd->get_name, $NAME_UPDATE);
    absent('UpdateCustomer', $upd);
    print "# readback $y 2 update\n";
    expect_fault('UpdateCustomer stale version',
        scalar $svc->UpdateCustomer({ id => "$y", expectedVersion => 1, customer => { name => 'stale' } }), 'CONFLICT');

    my $z = response('AddCustomer', $svc->AddCustomer({ customer => { name => 'Delete me' } }))->get_customer->get_id;
    equal('DeleteCustomer id', response('DeleteCustomer', $svc->DeleteCustomer({ id => "$z" }))->get_id, "$z");
    expect_fault('GetCustomer deleted', scalar $svc->GetCustomer({ id => "$z" }), 'NOT_FOUND');
    expect_fault('GetCustomer max xs:long', scalar $svc->GetCustomer({ id => $MAX_LONG }), 'NOT_FOUND');
    1;
} or do {
    my $err = $@;
    $err =~ s/\n(?=.)/\n# /g;
    chomp $err;
    check('unexpected error', 0, $err, 'none');
};
print "# $label: $failed failed\n";
exit($failed ? 1 : 0);

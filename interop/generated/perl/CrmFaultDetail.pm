# The SOAP 1.1 <detail> of a crmsoap fault, holding the typed CrmFault that wsdl2perl generated
# (CrmElements::CrmFault). SOAP::WSDL 3.004 types every fault detail as xs:string and maps fault
# elements as if they were the Body's child, so a detail with an element dies with "Cannot resolve
# class for Fault/detail/CrmFault"; fault-typemap.pl, passed to wsdl2perl -mi, maps the detail to
# this class instead. Written once by hand: it names only the CrmFault element of the contract.
package CrmFaultDetail;
use strict;
use warnings;
use Class::Std::Fast::Storable constructor => 'none';
use base qw(SOAP::WSDL::XSD::Typelib::ComplexType);

Class::Std::initialize();
{
    my %CrmFault_of :ATTR(:get<CrmFault>);
    __PACKAGE__->_factory(
        [qw(CrmFault)],
        { CrmFault => \%CrmFault_of },
        { CrmFault => 'CrmElements::CrmFault' },
        { CrmFault => 'CrmFault' },
    );
}

1;

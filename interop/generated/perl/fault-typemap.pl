# wsdl2perl -mi typemap snippet: the SOAP 1.1 fault detail and the CrmFault inside it, by the
# element paths SOAP::WSDL's parser looks up (namespaces ignored). Evaluated by wsdl2perl as a
# list of key => class pairs; the classes are the generated ones with the prefix Crm.
(
    'Fault/detail'                  => 'CrmFaultDetail',
    'Fault/detail/CrmFault'         => 'CrmElements::CrmFault',
    'Fault/detail/CrmFault/code'    => 'CrmTypes::FaultCode',
    'Fault/detail/CrmFault/message' => 'SOAP::WSDL::XSD::Typelib::Builtin::string',
    'Fault/detail/CrmFault/field'   => 'SOAP::WSDL::XSD::Typelib::Builtin::string',
);

<#-- refresh-guard: the user's own live refresh-token families, in the realm's login theme. Model: families (list of
     id, clientId, started, lastUsed, lastIp, offline, revokeUrl), csrf, accountUrl; no families and no csrf: not signed in. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=false; section>
    <#if section = "header">
        ${msg("refreshGuardAccountTitle")}
    <#elseif section = "form">
    <div id="refresh-guard-account">
    <#if !(csrf??)>
        <p id="rg-sign-in">${msg("refreshGuardAccountSignIn")}</p>
        <p><a id="rg-account-link" href="${accountUrl}">${msg("refreshGuardAccountConsole")}</a></p>
    <#elseif families?size == 0>
        <p id="rg-none">${msg("refreshGuardAccountNone")}</p>
    <#else>
        <p>${msg("refreshGuardAccountIntro")}</p>
        <table id="rg-families" style="width: 100%; border-collapse: collapse">
            <thead><tr>
                <th style="text-align: left">${msg("refreshGuardAccountClient")}</th>
                <th style="text-align: left">${msg("refreshGuardAccountStarted")}</th>
                <th style="text-align: left">${msg("refreshGuardAccountLastUsed")}</th>
                <th style="text-align: left">${msg("refreshGuardAccountLastIp")}</th>
                <th style="text-align: left">${msg("refreshGuardAccountKind")}</th>
                <th></th>
            </tr></thead>
            <tbody>
            <#list families as f>
                <tr class="rg-family" data-family="${f.id}">
                    <td class="rg-client">${f.clientId}</td>
                    <td>${f.started}</td>
                    <td>${f.lastUsed}</td>
                    <td>${f.lastIp}</td>
                    <td><#if f.offline>${msg("refreshGuardAccountOffline")}<#else>${msg("refreshGuardAccountOnline")}</#if></td>
                    <td>
                        <form method="post" action="${f.revokeUrl}">
                            <input type="hidden" name="csrf" value="${csrf}"/>
                            <button type="submit" class="${properties.kcButtonClass!} ${properties.kcButtonDefaultClass!}"
                                    id="rg-revoke-${f.id}">${msg("refreshGuardAccountRevoke")}</button>
                        </form>
                    </td>
                </tr>
            </#list>
            </tbody>
        </table>
    </#if>
    </div>
    </#if>
</@layout.registrationLayout>

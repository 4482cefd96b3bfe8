<#-- Reuse alert, HTML. Same model as text/refresh-guard-reuse.ftl; FreeMarker escapes every value. -->
<html lang="${locale.language}">
<body>
<p>${msg("refreshGuardReuseIntro_" + audience, realmName)}</p>
<table style="border-collapse: collapse">
<#list rows as row>
  <tr><th style="text-align: left; padding: 2px 12px 2px 0">${msg(row.label)}</th><td style="padding: 2px 0">${row.value}</td></tr>
</#list>
</table>
<p>${msg("refreshGuardRevoked_" + alert.action)}</p>
<p><strong>${msg("refreshGuardAdvice_" + audience)}</strong></p>
<#if wasntMeLink??><p><a href="${wasntMeLink}">${msg("refreshGuardWasntMeLink")}</a> ${msg("refreshGuardWasntMeExplained")}</p></#if>
</body>
</html>

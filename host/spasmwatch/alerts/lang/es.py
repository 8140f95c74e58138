"""Español. "banda" for the band, "serie" for a cluster (los espasmos vienen en series), "usted".
An alarm is "atendida" (someone is on it), never "confirmada": that is the page's label of a
cluster seen to be real. "monitorización" for the band's watching, as Spanish pediatrics says it.
A time after "las" ("desde las {time}") gets "la" at one o'clock, "desde la 01:05" (alerts/messages.py
_t, the page's app.js t): new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native
speakers, please review")."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch es una ayuda para la detección, no un diagnóstico.",
    "device": "{label} ({device})",
    "since": " desde las {time}",
    "of": " de las {time}",
    "waking.unknown": "hora de despertar desconocida",
    "waking.after": "{min} min después de despertar",
    "spasms.one": "{n} movimiento tipo espasmo",
    "spasms.other": "{n} movimientos tipo espasmo",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Aviso: {spasms}",
    "warning.text": "{spasms} muy seguidos{since}. Si llega un tercero, spasmwatch dará la alarma de serie. "
    "Conviene mirar al bebé, con el móvil listo para grabar.",
    "alarm.title": "ALARMA: posible serie de espasmos",
    "alarm.text": "{spasms} en serie{since}, {waking}. Por favor, grabe al bebé ahora si sigue ocurriendo "
    "y contacte con su pediatra. {disclaimer}",
    "update.title": "La serie continúa: {n} movimientos",
    "update.text": "La serie sigue: {spasms}{since}. Siga grabando si puede. {disclaimer}",
    "escalated.title": "ALARMA SIN ATENDER: posible serie de espasmos",
    "escalated.text": "Hace {span} que nadie atiende la alarma. {spasms} en serie{since}, {waking}. Por favor, "
    "mire al bebé ahora, grábelo si sigue ocurriendo y contacte con su pediatra. {disclaimer}",
    "acknowledged.title": "Alarma atendida por {by}",
    "acknowledged.text": "{by} se ocupa de la alarma de {device}.",
    "closed.title": "Serie terminada{alarm}",
    "closed.title.open": ", alarma SIN ATENDER",
    "closed.title.acknowledged": ", alarma atendida{by}",
    "closed.title.unanswered": ", alarma nunca atendida",
    "closed.by": " por {by}",
    "closed.over": " en {span}",
    "closed.start": ", empezó a las {time}",
    "closed.alarm.open": "Nadie ha atendido la alarma todavía: vaya a ver al bebé y luego márquela como atendida en "
    "la página de spasmwatch. ",
    "closed.alarm.acknowledged": "La alarma fue atendida{by}. ",
    "closed.alarm.unanswered": "Nadie atendió la alarma. ",
    "closed.text": "Serie terminada: {spasms}{over}{start}. {alarm}Anote lo que vio. Si vuelve a ocurrir, grábelo "
    "y muestre los vídeos que tenga a su pediatra.",
    "merged.title": "La misma serie que una alarma anterior",
    "merged.text": "Los movimientos de esta alarma pertenecen a la serie{since}, ya avisada: una sola serie, no dos "
    "({spasms} hasta ahora). Sigue bajo aquella alarma; no hay nada más que hacer con esta.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "late.title": "Serie anterior, a las {time}",
    "late.text": "Solo se ha sabido ahora (los datos de la banda llegaron tarde): {spasms} en serie{over}, empezó a las "
    "{time}, {waking}. Ya terminó: no hay nada que grabar ahora. Anote lo que recuerde de ese momento y cuénteselo a "
    "su pediatra. {disclaimer}",
    "false_alarm.title": "Falsa alarma",
    "false_alarm.text": "{by} marcó la serie{of} como falsa alarma. No hace falta hacer nada.",
    "test_alarm.title": "Alarma de prueba, nada detectado",
    "test_alarm.text": "Esto es una prueba de las alarmas de spasmwatch, enviada por {by} a las {time}. No se detectó "
    "ningún espasmo. Esta prueba ha llegado, así que las alarmas llegan a este teléfono o altavoz. Una alarma real necesita "
    "además la banda cargada, puesta y conectada, y solo llega cuando spasmwatch detecta una serie; algunas se le "
    "escapan. Si ve espasmos, grábelos y consulte a su pediatra.",
    "fault.disconnected.title": "Banda desconectada",
    "fault.disconnected.text": "No llegan datos de la banda: no se pueden detectar espasmos. Compruebe que la banda "
    "está cargada y al alcance de este ordenador.",
    "fault.disconnected.here.text": "No llegan datos de la banda: no se pueden detectar espasmos. El problema está en "
    "este ordenador, no en la banda: no puede usar Bluetooth (no tiene adaptador Bluetooth, o el servicio Bluetooth "
    "no está en marcha). 'spasmwatch status' en este ordenador indica qué hacer.",
    "fault.disconnected.fault.text": "No llegan datos de la banda: no se pueden detectar espasmos. La banda responde "
    "pero no se puede usar hasta que alguien actúe (emparejarla de nuevo, o una actualización): la página web, o "
    "'spasmwatch status' en este ordenador, indica qué hacer.",
    "fault.not_worn.title": "Banda no puesta",
    "fault.not_worn.text": "Banda no puesta: compruebe que está bien ajustada al pecho del bebé, con el sensor delante.",
    "fault.battery_low.title": "Batería de la banda baja",
    "fault.battery_low.text": "Batería de la banda baja: cárguela pronto. Al 3 % deja de detectar hasta que se cargue.",
    "fault.log_nearly_full.title": "Memoria de la banda casi llena",
    "fault.log_nearly_full.text": "El registro de eventos de la banda está casi lleno: acérquela a este ordenador "
    "para que pueda enviar sus eventos.",
    "fault.clock_unsynced.title": "Reloj de la banda sin ajustar",
    "fault.clock_unsynced.text": "El reloj de la banda no está sincronizado: las horas de los eventos pueden ser "
    "erróneas hasta que se conecte a este ordenador.",
    "fault.safe_mode.title": "Banda en modo seguro",
    "fault.safe_mode.text": "La banda se reinició en modo seguro y no detecta: reiníciela y actualice su firmware "
    "si vuelve a ocurrir.",
    "fault.sensor_error.title": "Error del sensor de la banda",
    "fault.sensor_error.text": "El sensor de movimiento de la banda indica un error y no detecta: reinicie la banda.",
    "fault.storage_failing.title": "No se pueden guardar los eventos",
    "fault.storage_failing.text": "Este ordenador no puede guardar los eventos de la banda (¿está lleno el disco o desconectada la unidad?). "
    "Las alarmas siguen funcionando y la banda conserva sus eventos hasta que se puedan guardar: libere espacio "
    "o vuelva a conectar la unidad.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.storage_failing.rename.text": "Este ordenador no puede actualizar el archivo donde guarda los eventos de la banda: alguien "
    "le añadió a mano una columna que esta versión de spasmwatch añade por sí misma. No se guarda nada en él. Las alarmas "
    "siguen funcionando y la banda conserva sus eventos. Para arreglarlo, en este ordenador: detenga spasmwatch, ejecute "
    "{command} (cambia el nombre de esa columna y conserva lo que contiene) y vuelva a iniciar spasmwatch.",
    "fault.store_damaged.title": "El archivo de eventos está dañado",
    "fault.store_damaged.text": "El archivo donde este ordenador guarda los eventos de la banda está dañado: no se guarda "
    "nada en él. Las alarmas siguen funcionando y la banda conserva sus eventos. Para repararlo, en este ordenador: "
    "detenga spasmwatch, ejecute {command} (indica cómo detener spasmwatch si sigue en marcha) y "
    "vuelva a iniciar spasmwatch.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.copy.text": "El archivo donde este ordenador guarda los eventos de la banda se modificó a mano y ha "
    "perdido parte de cada evento: no se guarda nada en él y ninguna reparación puede recuperarlo. Las alarmas siguen "
    "funcionando y la banda conserva sus eventos. En este ordenador: detenga spasmwatch y vuelva a poner una copia del "
    "archivo hecha antes del cambio. Sin copia: aparte el archivo (consérvelo) y ejecute {command}, que crea uno nuevo y "
    "vacío. Después vuelva a iniciar spasmwatch ('spasmwatch status' indica los pasos).",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.backup.text": "El archivo donde este ordenador guarda los eventos de la banda se modificó a mano y "
    "ha perdido parte de cada evento: no se guarda nada en él y ninguna reparación puede recuperarlo. Las alarmas siguen "
    "funcionando y la banda conserva sus eventos. spasmwatch guarda una copia de seguridad diaria del archivo: en este "
    "ordenador, detenga spasmwatch, ejecute {command} (vuelve a poner la copia más reciente y conserva el archivo modificado "
    "al lado) y vuelva a iniciar spasmwatch: la banda envía de nuevo los eventos que aún conserva.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.unreadable.text": "El archivo donde este ordenador guarda los eventos de la banda no se puede leer "
    "en absoluto (no es un archivo de base de datos): no se guarda nada en él y ninguna reparación puede leerlo. Las "
    "alarmas siguen funcionando y la banda conserva sus eventos. En este ordenador: detenga spasmwatch, ejecute {command} "
    "(aparta el archivo y lo conserva) y vuelva a iniciar spasmwatch: crea un archivo nuevo y vacío, y la banda vuelve a "
    "enviar los eventos que aún guarda.",
    "fault.store_newer.title": "El archivo de eventos necesita un spasmwatch más reciente",
    "fault.store_newer.text": "El archivo donde este ordenador guarda los eventos de la banda fue modificado por una versión más reciente de "
    "spasmwatch, que esta no puede escribir: no se guarda nada en él. Las alarmas siguen funcionando y la banda conserva "
    "sus eventos. Si spasmwatch se acaba de actualizar, reinícielo; si se volvió a una versión anterior, actualícelo de nuevo.",
    "fault.band_log_failing.title": "La banda no puede guardar eventos",
    "fault.band_log_failing.text": "La banda no pudo guardar en su memoria un movimiento que detectó, y esos "
    "movimientos tampoco llegan aquí: pueden pasar espasmos sin detectar. Reinicie la banda; si vuelve a ocurrir, "
    "vuelva a instalar su firmware (spasmwatch flash) o sustitúyala.",
    "fault.samples_lost.title": "La banda pierde datos de movimiento",
    "fault.samples_lost.text": "La banda lleva varios minutos perdiendo una y otra vez parte de sus datos de "
    "movimiento (no da abasto con su sensor). Sigue detectando, pero un espasmo en esos momentos podría pasar "
    "sin detectar. Si continúa, reinicie la banda; si vuelve a ocurrir después, vuelva a instalar su firmware "
    "(spasmwatch flash) o sustitúyala.",
    "fault.other_bonds.title": "Otro dispositivo emparejado con la banda",
    "fault.other_bonds.text": "Otro dispositivo está emparejado con la banda {band} ({n}). Si no es uno de los suyos "
    "(un segundo ordenador o un móvil que usted haya emparejado), ejecute `spasmwatch bonds --revoke-others`.",
    "fault.radio_late.title": "La radio de la banda arrancó tarde",
    "fault.radio_late.text": "La radio de la banda {band} no arrancó al encenderla y funcionó unos {n} min después: "
    "por eso apareció como desconectada. La banda siguió vigilando y guardó lo que detectó mientras tanto, y ahora lo "
    "envía aquí; una serie que haya en ello se avisa como tardía, ya que ninguna alarma podía llegarle con la radio "
    "apagada. Una sola vez no requiere hacer nada.",
    "fault.radio_late.again.text": "La radio de la banda {band} otra vez no arrancó al encenderla y funcionó unos {n} min "
    "después: por eso apareció como desconectada. La banda siguió vigilando y guardó lo que detectó mientras tanto, y "
    "ahora lo envía aquí; una serie que haya en ello se avisa como tardía, ya que ninguna alarma podía llegarle con la "
    "radio apagada. Como ya pasó antes, apague y encienda la banda; si pasa a menudo, vea docs/firmware.md (arrancar "
    "primero la radio).",
    "cleared.disconnected.title": "Banda reconectada",
    "cleared.disconnected.text": "Banda reconectada: la monitorización continúa.",
    "cleared.not_worn.title": "Banda puesta de nuevo",
    "cleared.not_worn.text": "Banda puesta de nuevo: la monitorización continúa.",
    "cleared.battery_low.title": "Batería de la banda correcta",
    "cleared.battery_low.text": "La batería de la banda vuelve a estar bien.",
    "cleared.log_nearly_full.title": "Memoria de la banda correcta",
    "cleared.log_nearly_full.text": "La banda envió sus eventos; su registro vuelve a tener espacio.",
    "cleared.clock_unsynced.title": "Reloj de la banda ajustado",
    "cleared.clock_unsynced.text": "El reloj de la banda vuelve a estar sincronizado.",
    "cleared.safe_mode.title": "La banda detecta de nuevo",
    "cleared.safe_mode.text": "La banda salió del modo seguro y vuelve a detectar.",
    "cleared.sensor_error.title": "Sensor de la banda correcto",
    "cleared.sensor_error.text": "El sensor de movimiento de la banda vuelve a funcionar.",
    "cleared.storage_failing.title": "Eventos guardados de nuevo",
    "cleared.storage_failing.text": "Este ordenador vuelve a guardar los eventos de la banda.",
    "cleared.store_damaged.title": "Eventos guardados de nuevo",
    "cleared.store_damaged.text": "Este ordenador puede abrir de nuevo su archivo de eventos y guarda los de la banda.",
    "cleared.store_newer.title": "Eventos guardados de nuevo",
    "cleared.store_newer.text": "Este ordenador puede abrir de nuevo su archivo de eventos y guarda los de la banda.",
    "cleared.band_log_failing.title": "La banda vuelve a guardar",
    "cleared.band_log_failing.text": "La banda vuelve a guardar sus eventos (se reinició).",
    "cleared.samples_lost.title": "La banda ya no pierde datos",
    "cleared.samples_lost.text": "La banda ya no pierde datos de movimiento.",
    "cleared.other_bonds.title": "Ningún otro dispositivo emparejado",
    "cleared.other_bonds.text": "Ahora solo este ordenador está emparejado con la banda.",
    "cleared.radio_late.title": "Radio de la banda en marcha",
    "cleared.radio_late.text": "La radio de la banda funciona: la banda está conectada.",
    "summary.title": "Resumen diario: {clusters} en 24 h",
    "summary.title_none": "Resumen diario: ninguna serie en 24 h, {worn}",
    "summary.clusters.one": "{n} serie",
    "summary.clusters.other": "{n} series",
    "summary.more": " y {n} más",
    "summary.outside.one": " y {n} más fuera de ella",
    "summary.outside.other": " y {n} más fuera de ellas",
    "summary.counts": "{clusters} ({times}{more}) con {spasms}{outside}",
    "summary.counts_none": "ninguna serie, {spasms}",
    "summary.last_day": "Últimas 24 h: {counts}; {worn}.",
    "summary.title_unmonitored": "Resumen diario: sin monitorización en las últimas 24 h",
    "summary.last_day_unmonitored": "Últimas 24 h: sin monitorización ({worn}): no se ha contado nada.",
    "summary.worn_none": "sin datos de la banda",
    "summary.worn_h": "banda puesta {n} h",
    "summary.worn_min": "banda puesta {n} min",
    "summary.quiet.one": "Ninguna serie desde hace {n} día ({h} h de monitorización).",
    "summary.quiet.other": "Ninguna serie desde hace {n} días ({h} h de monitorización).",
    "summary.yesterday": "ayer",
    "summary.days_ago": "hace {n} días",
    "summary.treatment": "Desde el inicio del tratamiento con {drug} ({ago}): {after} series por cada 24 h de "
    "monitorización ({before} antes).",
    "summary.treatment_same": "Desde el inicio del tratamiento con {drug} ({ago}): {after} series por cada 24 h de "
    "monitorización ({before} antes: más o menos igual).",
    "summary.treatment_few": "Desde el inicio del tratamiento con {drug} ({ago}): aún hay pocas horas de monitorización "
    "para comparar ({after} h desde entonces, {before} h antes; se necesitan {need} h en cada periodo).",
    "summary.stopped": "{drug} se suspendió {ago}: la tasa es de los días hasta entonces.",
    "summary.hours_differ": "La banda se llevó a otras horas del día antes y después del inicio; las series suelen llegar "
    "al despertar, así que las tasas pueden diferir solo por eso.",
    "summary.treatment_doctor": "Solo cuentan las horas con la banda puesta y conectada; si el tratamiento funciona, "
    "lo valora su pediatra.",
    "decimal_mark": ",",
    "summary.video": "Guarde los vídeos y cuénteselo a su pediatra.",
    "summary.zones": "Zona horaria en las últimas 24 h: {zones}; las horas aquí son de {here}.",
    "summary.zone_unnamed": "una zona horaria sin nombre",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "summary.zone_not_known": "desconocida antes de las {time}: la versión de spasmwatch de entonces no guardó su nombre",
    # ---- la página de la familia (daemon/web/app.js)
    "page.connecting": "Conectando…",
    "page.current_alert": "Alerta actual",
    "page.band": "Banda",
    "page.bands": "Bandas",
    "page.loading": "Cargando…",
    "page.last24h": "Últimas 24 horas",
    "page.clusters_today": "Series de hoy",
    "page.no_clusters": "Hoy no hay series.",
    "page.clusters_help": "Por favor, marque cada serie: {confirmed} si vio espasmos, {false_alarm} si no. "
    "Así el registro para el médico es mejor.",
    "page.last14": "Últimos 14 días",
    "page.legend_clusters": "Series",
    "page.legend_false": "Falsas alarmas",
    "page.notes": "Notas",
    "page.what_happened": "¿Qué pasó?",
    "page.kind.video": "Vídeo grabado",
    "page.kind.medication": "Medicamento dado",
    "page.kind.note": "Nota",
    "page.details": "Detalles",
    "page.optional": "(opcional)",
    "page.required": "(obligatorio)",
    "page.note_placeholder": "p. ej. grabé 2 minutos con el móvil",
    "page.save_note": "Guardar nota",
    "page.today_notes": "Hoy",
    "page.no_notes": "Hoy no hay notas.",
    "page.disclaimer": "spasmwatch es una ayuda para la detección, no un diagnóstico. Si le preocupa su bebé, "
    "grabe los movimientos y contacte con su pediatra.",
    "page.who": "Su nombre en este móvil",
    "page.who_hint": "(se guarda con las alarmas atendidas, las marcas y las notas)",
    "page.who_placeholder": "p. ej. Mamá",
    "page.screen.keep": "Mantener la pantalla encendida",
    "page.screen.stop": "Dejar que la pantalla se bloquee",
    "page.screen.off": "La pantalla del móvil se bloquea como siempre; un móvil bloqueado ya no muestra las alarmas de "
    "esta página (las notificaciones siguen llegando).",
    "page.screen.on": "La pantalla se queda encendida mientras esta página esté abierta y delante.",
    "page.screen.paused": "La pantalla puede bloquearse mientras esta página está oculta; vuelve a quedarse encendida "
    "cuando regrese a ella.",
    "page.screen.refused": "El móvil no mantiene la pantalla encendida (puede que sus ajustes para este sitio lo "
    "prohíban): ponga en su lugar un tiempo de pantalla más largo en los ajustes del móvil.",
    "page.screen.needs_https": "Para mantener la pantalla encendida, esta página debe abrirse por https://: en el "
    "ordenador donde funciona spasmwatch, ejecute 'spasmwatch config tls new', reinicie spasmwatch y abra la dirección "
    "https:// que da 'spasmwatch status'.",
    "page.screen.unsupported": "Este navegador no puede mantener la pantalla encendida: ponga un tiempo de pantalla más "
    "largo en los ajustes del móvil.",
    "page.test_alarm": "Enviar una alarma de prueba",
    "page.test_alarm_help": "Comprueba que una alarma llega a cada móvil y altavoz configurado; dice que es solo una prueba.",
    "page.fault.disconnected": "Desconectada",
    "page.fault.not_worn": "No puesta",
    "page.fault.battery_low": "Batería baja",
    "page.fault.log_nearly_full": "Memoria de la banda casi llena",
    "page.fault.clock_unsynced": "Reloj sin ajustar",
    "page.fault.safe_mode": "Banda en modo seguro",
    "page.fault.sensor_error": "Error del sensor",
    "page.fault.storage_failing": "No se pueden guardar los eventos (¿disco lleno o desconectado?)",
    "page.fault.store_damaged": "Archivo de eventos dañado: detenga spasmwatch, ejecute {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.copy": "Archivo de eventos con datos perdidos que ninguna reparación recupera: detenga spasmwatch, "
    "vuelva a poner una copia anterior o aparte el archivo y ejecute {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.storage_failing.rename": "Archivo de eventos con una columna añadida a mano que esta versión añade: detenga "
    "spasmwatch, ejecute {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.backup": "Archivo de eventos con datos perdidos que ninguna reparación recupera: detenga "
    "spasmwatch y vuelva a poner la copia diaria más reciente con {command}",
    "page.fault.store_damaged.unreadable": "Archivo de eventos ilegible, ninguna reparación lo lee: detenga spasmwatch, "
    "apártelo con {command} e inicie spasmwatch (crea uno nuevo)",
    "page.fault.store_newer": "Archivo de eventos de un spasmwatch más reciente: reinicie spasmwatch o actualícelo",
    "page.fault.band_log_failing": "La banda no puede guardar eventos",
    "page.fault.samples_lost": "La banda pierde datos de movimiento",
    "page.fault.other_bonds": "Otro dispositivo emparejado: spasmwatch bonds --revoke-others si no es suyo",
    "page.fault.radio_late": "Radio tardía al encender: eventos guardados y enviados aquí",
    "page.state.connected": "Conectada",
    "page.state.silent": "Conectada, sin datos",
    "page.state.out_of_reach": "Fuera de alcance, reintentando",
    "page.state.disconnected": "Desconectada",
    "page.state.needs_attention": "Requiere atención",
    "page.unknown": "Desconocido",
    "page.under_minute": "menos de un minuto",
    "page.min": "{m} min",
    "page.h": "{h} h",
    "page.h_min": "{h} h {m} min",
    "page.just_now": "ahora mismo",
    "page.ago": "hace {span}",
    "page.band_fallback": "banda",
    "page.access_expired": "Acceso caducado: abra de nuevo el enlace con el token.",
    "page.cannot_reach": "No se puede contactar con spasmwatch: lo que ve puede no estar actualizado.",
    # new 2026-12-08, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.store_unreadable": "spasmwatch no puede leer su archivo de eventos ahora: lo que ve puede no estar actualizado.",
    "page.last_update": "Última actualización a las {time}.",
    "page.offline": "Sin conexión",
    "page.live": "En directo",
    "page.reconnecting": "Reconectando…",
    "page.refreshing": "Se actualiza cada 10 s",
    "page.updated": "Actualizado {time}",
    "page.ack": "Atender",
    "page.ack_label": "Atender: {title}",
    "page.alert_fallback": "alerta",
    "page.acking": "Marcando como atendida…",
    "page.since": "desde las {time}",
    "page.after_waking": "{min} min después de despertar",
    "page.waking_unknown": "hora de despertar desconocida",
    "page.cluster_title": "Posible serie de espasmos",
    "page.acked": "Atendida.",
    "page.acked_by": "Atendida por {by}.",
    "page.marked_false": "Marcada como falsa alarma.",
    "page.seen_by": "Vista por {by}.",
    "page.no_alert": "Ninguna alerta ahora.",
    "page.band_alerts.one": "{n} aviso de banda",
    "page.band_alerts.other": "{n} avisos de banda",
    "page.show_band_alerts": "Mostrar",
    "page.hide_band_alerts": "Ocultar",
    "page.not_saved": "No guardado: {error}",
    "page.alert_over": "Esta alerta ya había terminado: no hay nada más que hacer.",
    "page.alert_over_acked": "Esta alerta ya había terminado; {by} la había atendido.",
    "page.ack_not_open": "Esta alerta ya no está abierta: no se guardó nada (el archivo de eventos no se puede leer ahora). "
    "Si vuelve a aparecer, atiéndala entonces.",
    "page.no_band": "Todavía no hay ninguna banda configurada.",
    "page.yes": "Sí",
    "page.not_on_baby": "No — no la lleva el bebé",
    "page.asleep": "Dormido",
    "page.awake": "Despierto",
    "page.asleep_since": "Dormido desde las {time}",
    "page.awake_since": "Despierto desde las {time}",
    "page.for": "durante {span}",
    "page.last_known": "último dato a las {time} ({seen})",
    "page.never": "nunca",
    "page.battery": "Batería",
    "page.worn": "Puesta",
    "page.sleep": "Sueño",
    "page.last_heard": "Último dato de la banda: {seen}",
    "page.band_problems": "Problemas de la banda",
    "page.not_connecting": "No se conecta: {error}.",
    "page.raw_paused": "Grabación en bruto en pausa desde las {time}: {why}. Los eventos y las alarmas siguen.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.link_unstable": "Conexión inestable: se cortó {n} veces en {min} min. Los eventos siguen llegando en cada "
    "reconexión, las alarmas con el retraso de los segundos sin conexión: vuelva a enchufar el cable o acerque la banda.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.rate_not_taken": "Muestrea a {hz} Hz, no a los {configured} Hz configurados: la IMU o el firmware de la banda no "
    "admiten esa frecuencia. La monitorización continúa; revise rate_hz en la configuración o actualice el firmware de la banda.",
    "page.firmware_old": "El firmware de la banda no es el del spasmwatch de este ordenador: grabe en la banda el de "
    "este ordenador ('spasmwatch flash'). La monitorización continúa.",
    "page.firmware_newer": "El firmware de la banda es más reciente que el spasmwatch de este ordenador: actualice el "
    "spasmwatch de este ordenador ('git pull' y luego 'make install') en vez de grabar la banda. La monitorización "
    "continúa.",
    "page.muted": "Avisos de la banda retenidos hasta las {time}{by} (las alarmas de serie siguen sonando).",
    "page.muted_tomorrow": "Avisos de la banda retenidos hasta mañana a las {time}{by} (las alarmas de serie siguen "
    "sonando).",
    "page.muted_by": " por {by}",
    "page.end_mute": "Terminar el silencio ahora",
    "page.end_mute_label": "Terminar ahora el silencio de {band}",
    "page.channels_failing": "Las notificaciones no llegan por {channels}.",
    "page.channel_failing": "{channel} (desde las {time}: {error})",
    "page.channels_check_net": "Compruebe la conexión a internet de este ordenador y los ajustes del canal, "
    "y luego envíe una alarma de prueba (abajo).",
    "page.channels_check": "Compruebe los ajustes del canal y luego envíe una alarma de prueba (abajo).",
    "page.channels_changed": "Cambiado desde que falló, así que no se sabe si entrega hasta que envíe: {channels}. "
    "Envíe una alarma de prueba (abajo).",
    "page.channel_changed": "{channel} (falló a las {time}: {error})",
    "page.channels_others": "Los otros canales ({channels}) no fallan.",
    "page.channels_none": "Ningún canal funciona: ahora una alarma no llega a nadie. Hasta que uno funcione, "
    "spasmwatch no puede avisarle de una serie.",
    "page.heartbeat_failing": "falla desde las {time}: {error}",
    "page.heartbeat": "La señal de vida a {host} {why}.",
    "page.heartbeat_held": "La señal de vida a {host} está retenida: {why}.",
    "page.heartbeat_off": "Si este ordenador se apaga ahora, nadie se entera; su servicio pronto dirá que el monitor "
    "no funciona.",
    "page.store_error": "No se puede abrir el archivo de eventos (desde las {time}): {error}. Las alarmas siguen "
    "funcionando y las bandas conservan sus eventos hasta que se abra; spasmwatch lo vuelve a intentar cada minuto.",
    "page.config_error": "El cambio de configuración no se aplicó (desde las {time}): {error}. El monitor sigue "
    "con la configuración que tenía; corrija el archivo y luego ejecute {command} (dice si el cambio "
    "se aplicó; para el servicio instalado, systemctl --user reload spasmwatch hace lo mismo sin mensajes).",
    "page.ongoing": "en curso",
    "page.label_cluster": "Marcar la serie de las {time}",
    "page.confirmed": "Confirmada",
    "page.false_alarm": "Falsa alarma",
    "page.chart": "Series por día en los últimos {days} días: {total} en total; falsas alarmas: {false}.",
    "page.chart_today": "Series por día en los últimos {days} días: {total} en total; falsas alarmas: {false}; "
    "hoy: {today}.",
    "page.today": "hoy",
    "page.clusters.one": "{n} serie",
    "page.clusters.other": "{n} series",
    "page.false_alarms.one": "{n} falsa alarma",
    "page.false_alarms.other": "{n} falsas alarmas",
    "page.no_data": "sin datos: la banda no estaba puesta o no estaba conectada",
    "page.no_band_heard": "Todavía no se ha recibido nada de ninguna banda.",
    "page.write_first": "Por favor, escriba primero la nota.",
    "page.saving": "Guardando…",
    "page.saved_at": "Guardada a las {time}.",
    "page.test_sending": "Enviando una alarma de prueba por cada canal…",
    "page.test_sent": "Enviada por {channels}: compruebe que llegó.",
    "page.test_heard": "{channel}: reproducida en este ordenador: ¿la ha oído? (El reproductor se ejecutó, lo que no demuestra que "
    "haya un altavoz conectado y con volumen.)",
    "page.test_failed": "NO entregada por {channel}: {error}.",
    "page.test_not_sent": "Prueba no enviada: {error}",
    "page.noscript": "Esta página necesita JavaScript para mostrar el estado de la banda.",
    "page.tech": "Detalles técnicos",
    "page.why.here": "este ordenador no puede usar Bluetooth (no tiene adaptador Bluetooth, o el servicio Bluetooth "
    "no está en marcha); 'spasmwatch status' en este ordenador indica qué hacer",
    "page.why.not_found": "no se encuentra la banda: fuera de alcance, apagada o conectada a otro ordenador",
    "page.why.timeout": "la banda no responde a tiempo",
    "page.why.refused": "la banda rechaza la conexión (¿ocupada con otro ordenador?)",
    "page.why.disconnected": "la conexión se cortó",
    "page.why.auth": "la banda rechaza el emparejamiento",
    "page.why.io": "la conexión informa de un error",
    "page.fault_detail.not_bonded": "No emparejada: la banda acepta emparejamientos nuevos solo en los primeros {min} "
    "minutos después de encenderla: apáguela y enciéndala, y espere a que spasmwatch se conecte.",
    "page.fault_detail.pairing_refused": "La banda rechaza el emparejamiento: si se borró o se le volvió a instalar el firmware, "
    "quítela en los ajustes de Bluetooth de este ordenador y luego apáguela y enciéndala.",
    "page.fault_detail.band_refused": "La banda rechazó una orden: reiníciela; si vuelve a pasar, actualice su firmware.",
    "page.fault_detail.update_host": "El firmware de la banda es más reciente que spasmwatch en este ordenador "
    "(versión de protocolo {band}, aquí {host}): actualice spasmwatch en este ordenador.",
    "page.fault_detail.update_band": "El firmware de la banda es más antiguo que spasmwatch en este ordenador "
    "(versión de protocolo {band}, aquí {host}): vuelva a instalar el firmware de la banda con el spasmwatch de este ordenador "
    "('spasmwatch flash').",
    "page.raw.low_disk": "{free} libres en {mount}, se reservan {keep} para los eventos",
    "page.raw.cannot_write": "no se puede escribir {path}: {error}",
    "page.held.store_refuses": "el archivo de eventos no acepta escrituras ({bands}): se perderían eventos",
    "page.notices": "Por corregir (la monitorización sigue mientras tanto)",
    "page.exposure.short_token": "página web: el token de la red local es corto ({n} caracteres); {min} o más es más "
    "seguro: 'spasmwatch config set daemon.http.token new' crea uno (se lee al arrancar el monitor: reinícielo y abra "
    "en cada móvil el enlace que muestra 'spasmwatch status')",
    "page.exposure.plain_page": "página web: servida en la red de casa sin cifrar (HTTP): quien escuche el wifi lee el "
    "enlace de acceso y la cookie (y con ellos puede atender alarmas) y el estado del bebé. 'spasmwatch config tls new' "
    "crea un certificado para HTTPS (luego reinicie el monitor y acepte el certificado una vez en cada móvil)",
    "page.exposure.short_topic": "[channels.ntfy #{i}] ({channel}): su tema tiene {n} caracteres, menos de {min}: quien "
    "lo adivine lee cada notificación (el nombre de la banda, las series) y puede enviar falsas alarmas. 'spasmwatch config "
    "add-ntfy new' crea uno que nadie adivina (luego suscriba los móviles a él)",
    "page.exposure.plain_ntfy": "[channels.ntfy #{i}] ({channel}): {origin} sin cifrar, fuera de este ordenador y de la "
    "red de casa: cada notificación (el nombre de la banda, las series) cruza internet sin cifrar, legible para quien esté en "
    "el camino. Ponga su dirección https:// en la configuración",
    "page.exposure.plain_ntfy_token": "[channels.ntfy #{i}] ({channel}): {origin} sin cifrar, fuera de este ordenador y "
    "de la red de casa: cada notificación (el nombre de la banda, las series) y su token de acceso cruzan internet sin "
    "cifrar, legibles para quien esté en el camino. Ponga su dirección https:// en la configuración",
    "page.exposure.plain_webhook": "[channels.webhook #{i}] ({channel}): {origin} sin cifrar, fuera de este ordenador y "
    "de la red de casa: cada alerta que recibe (el nombre de la banda, las series) cruza internet sin cifrar, legible "
    "para quien esté en el camino. Ponga su dirección https:// en la configuración",
    "page.exposure.mqtt_no_tls": "[channels.mqtt]: su contraseña va a {broker} sin cifrar (tls = false), y con ella "
    "cada estado: quien escuche la red de casa lee ambos. Ponga tls = true (el puerto TLS del broker, casi siempre 8883; "
    "docs/alerts.md \"mqtt\")",
    "page.exposure.mqtt_no_login": "[channels.mqtt]: sin nombre de usuario, así que el broker en {broker} acepta "
    "clientes sin autenticación: quien llegue a él en la red puede atender una alarma (commands = true) y leer cada "
    "estado. Configure un usuario en el broker (username y password aquí), o ponga commands = false",
    "page.exposure.past_bound": "{file}, línea {line}: [{table}] {setting} = {value} pasa de su límite ({bound}), se toma "
    "{taken}: {why}. Escriba {taken} (o un valor dentro del límite) en el archivo para que desaparezca este aviso",
    "page.bound_why.escalate_after_s": "una alarma que nadie confirma llega a todos los móviles antes de ese tiempo; más "
    "tarde, su sonido ya ha parado y nadie más se entera",
    "page.bound_why.rate_limit_s": "un fallo de la banda se repite al menos con esa frecuencia; pasada una hora, una "
    "banda que vuelve a desconectarse más tarde en la noche no se avisa durante horas",
    "page.bound_why.quiet_hours": "unas horas de silencio más largas que una noche y la tarde anterior retienen los fallos "
    "de la banda mientras la familia está despierta",
    "page.bound_why.repeat_every_s": "una alarma que nadie confirma suena al menos dos veces en sus 10 minutos (0 la hace "
    "sonar una vez)",
    "page.bound_why.repeat_every_s_min": "más juntos, los sonidos se amontonan unos sobre otros",
    "page.bound_why.repeat_for_s": "una alarma que nadie confirma se cierra en unas horas: más tiempo es un descuido, no "
    "una elección",
    "page.bound_why.backup_keep_days": "cada copia ocupa tanto como el archivo entero de los eventos, en su mismo disco, y un disco lleno de copias "
    "impide guardar los eventos",
    "page.bound_why.raw_keep_days": "pasado un año el valor significa lo mismo que 0: conservar todos los archivos en bruto",
    "page.old_code": "El monitor en marcha arrancó con un código distinto del instalado ahora (actualizado desde que "
    "arrancó): reinícielo: {restart}. Mientras tanto la monitorización continúa, con el código con el que arrancó.",
    "page.restart_by_hand": "detenga 'spasmwatch run' (Ctrl+C) y vuelva a iniciarlo",
    "page.config_restart": "Ajustes cambiados en el archivo de configuración, que solo se aplican al arrancar el "
    "monitor: {keys}. Reinicie el monitor: {restart}. Mientras tanto la monitorización continúa, con los ajustes con los "
    "que arrancó.",
    "locked.title": "spasmwatch: el acceso necesita el enlace con el token",
    "locked.text": "Esta página está protegida. Abra el enlace con {link} que muestra {command} en el ordenador donde "
    "funciona spasmwatch (o pregunte a quien lo configuró). El móvil lo recuerda después.",
}
